using Microsoft.Extensions.Options;

namespace Metrics.Api.Auth;

/// <summary>Counts open streams per user on this replica: the default, with no backplane.</summary>
public sealed class InMemoryUserStreamLimiter(IOptions<StreamLimitOptions> options) : IUserStreamLimiter
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, int> _open = new(StringComparer.Ordinal);
    private readonly int _max = options.Value.MaxStreamsPerUser;

    public int MaxStreamsPerUser => _max;

    public TimeSpan RetryAfter { get; } = options.Value.RetryAfter;

    public ValueTask<IStreamLease?> TryAcquireAsync(string userId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(userId);
        lock (_lock)
        {
            var open = _open.GetValueOrDefault(userId);
            if (open >= _max)
            {
                return ValueTask.FromResult<IStreamLease?>(null);
            }

            _open[userId] = open + 1;
        }

        return ValueTask.FromResult<IStreamLease?>(new Lease(this, userId));
    }

    private void Release(string userId)
    {
        lock (_lock)
        {
            var remaining = _open.GetValueOrDefault(userId) - 1;
            if (remaining <= 0)
            {
                _open.Remove(userId);
            }
            else
            {
                _open[userId] = remaining;
            }
        }
    }

    private sealed class Lease(InMemoryUserStreamLimiter owner, string userId) : IStreamLease
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                owner.Release(userId);
            }
        }
    }
}
