using Metrics.Api.Auth;
using StackExchange.Redis;

namespace Metrics.Api.Backplane;

/// <summary>
/// Redeemed ticket ids shared by every replica: <c>SET ticket:&lt;jti&gt; 1 NX PX &lt;until expiry&gt;</c>, so of any
/// number of redemptions on any replicas exactly one succeeds, and Redis forgets the id once the ticket could no
/// longer validate. Unreachable Redis is an error, never a pass: the caller answers 503.
/// </summary>
public sealed class RedisTicketReplayCache(
    IConnectionMultiplexer redis,
    TimeProvider timeProvider,
    RedisOutage outage,
    BackplaneMetrics metrics) : ITicketReplayCache
{
    public const string KeyPrefix = "metrics-api:ticket:";

    /// <summary>Redis reconnects within seconds of coming back (the client retries with a short backoff).</summary>
    private static readonly TimeSpan UnavailableRetryAfter = TimeSpan.FromSeconds(5);

    public async ValueTask<bool> TryRedeemAsync(string ticketId, DateTimeOffset keepUntil, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(ticketId);
        // A disconnected client would queue the command until its timeout; the answer is known now.
        if (!redis.IsConnected)
        {
            throw Unavailable(null);
        }

        // Relative, so replicas' clocks do not matter; at least a second, so the key outlives a ticket that is
        // still (just) valid under the clock skew.
        var keepFor = keepUntil - timeProvider.GetUtcNow();
        if (keepFor < TimeSpan.FromSeconds(1))
        {
            keepFor = TimeSpan.FromSeconds(1);
        }

        try
        {
            var redeemed = await redis.GetDatabase().StringSetAsync(KeyPrefix + ticketId, 1, keepFor, When.NotExists);
            outage.Succeeded();
            return redeemed;
        }
        catch (Exception exception) when (exception is RedisException or TimeoutException)
        {
            throw Unavailable(exception);
        }
    }

    private TicketReplayCacheUnavailableException Unavailable(Exception? exception)
    {
        outage.Failed("ticket redemption", exception);
        metrics.TicketUnverified();
        return new TicketReplayCacheUnavailableException("Redis is unreachable: the ticket cannot be proven unused.", exception)
        {
            RetryAfter = UnavailableRetryAfter,
        };
    }
}
