using System.Collections.Concurrent;

namespace Metrics.Api.Auth;

/// <summary>
/// Redeemed ticket ids of this replica. Entries live until their ticket could no longer be valid (expiry plus
/// clock skew) and are swept on use, so memory is bounded by issuance rate × ticket lifetime; no timer.
/// </summary>
public sealed class InMemoryTicketReplayCache(TimeProvider timeProvider) : ITicketReplayCache
{
    private static readonly TimeSpan SweepInterval = TimeSpan.FromSeconds(10);

    private readonly ConcurrentDictionary<string, DateTimeOffset> _redeemed = new(StringComparer.Ordinal);
    private long _nextSweepTicks;

    /// <summary>Ids currently remembered.</summary>
    public int Count => _redeemed.Count;

    public ValueTask<bool> TryRedeemAsync(string ticketId, DateTimeOffset keepUntil, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(ticketId);
        var now = timeProvider.GetUtcNow();
        SweepIfDue(now);
        return ValueTask.FromResult(_redeemed.TryAdd(ticketId, keepUntil));
    }

    private void SweepIfDue(DateTimeOffset now)
    {
        var due = Interlocked.Read(ref _nextSweepTicks);
        if (now.UtcTicks < due || Interlocked.CompareExchange(ref _nextSweepTicks, (now + SweepInterval).UtcTicks, due) != due)
        {
            return;
        }

        foreach (var (id, keepUntil) in _redeemed)
        {
            if (keepUntil < now)
            {
                _redeemed.TryRemove(new KeyValuePair<string, DateTimeOffset>(id, keepUntil));
            }
        }
    }
}
