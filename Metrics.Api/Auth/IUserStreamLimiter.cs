namespace Metrics.Api.Auth;

/// <summary>
/// The per-user limit on open streams. A lease is taken before a stream is allocated and released (disposed) when
/// the stream ends; a user at the limit gets nothing allocated at all. The in-memory implementation counts this
/// replica's streams; the Redis one (Metrics.Api/Backplane) counts every replica's.
/// </summary>
public interface IUserStreamLimiter
{
    int MaxStreamsPerUser { get; }

    /// <summary>The Retry-After sent with the 429 of a user at the limit.</summary>
    TimeSpan RetryAfter { get; }

    /// <summary>One of the user's stream slots, or null when all are taken. Never throws for a backplane outage.</summary>
    ValueTask<IStreamLease?> TryAcquireAsync(string userId, CancellationToken cancellationToken = default);
}

/// <summary>One open stream's slot; disposing it (any number of times) gives the slot back.</summary>
public interface IStreamLease : IDisposable;
