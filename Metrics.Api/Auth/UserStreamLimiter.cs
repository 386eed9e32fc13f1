using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Options;

namespace Metrics.Api.Auth;

/// <summary>
/// Counts open streams per user on this replica. A lease is taken before a stream is allocated and released when
/// the stream ends (the stream's finally, and the response's disposal as a backstop); a user at the limit gets
/// nothing allocated at all.
/// </summary>
public sealed class UserStreamLimiter(IOptions<StreamLimitOptions> options)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, int> _open = new(StringComparer.Ordinal);
    private readonly int _max = options.Value.MaxStreamsPerUser;

    public int MaxStreamsPerUser => _max;

    public TimeSpan RetryAfter { get; } = options.Value.RetryAfter;

    public bool TryAcquire(string userId, [NotNullWhen(true)] out IDisposable? lease)
    {
        ArgumentNullException.ThrowIfNull(userId);
        lock (_lock)
        {
            var open = _open.GetValueOrDefault(userId);
            if (open >= _max)
            {
                lease = null;
                return false;
            }

            _open[userId] = open + 1;
        }

        lease = new Lease(this, userId);
        return true;
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

    private sealed class Lease(UserStreamLimiter owner, string userId) : IDisposable
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
