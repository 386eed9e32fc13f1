namespace Metrics.Api.Backplane;

/// <summary>
/// The one renewal loop of this process: every <see cref="RedisUserStreamLimiter.RenewalInterval"/> it renews all the
/// replica's stream leases in one pass (no timer per lease). A failed pass is simply retried at the next tick, well
/// before a lease can expire (three ticks per lease lifetime).
/// </summary>
public sealed class StreamLeaseRenewalService(RedisUserStreamLimiter limiter, TimeProvider timeProvider) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(limiter.RenewalInterval, timeProvider);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await limiter.RenewAsync();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: the leases expire on their own if their streams do not release them first.
        }
    }
}
