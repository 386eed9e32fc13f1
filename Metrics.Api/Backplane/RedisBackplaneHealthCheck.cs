using Microsoft.Extensions.Diagnostics.HealthChecks;
using StackExchange.Redis;

namespace Metrics.Api.Backplane;

/// <summary>
/// Redis as the backplane sees it. Registered with failure status Degraded: without Redis this replica still streams
/// (limits count locally, tickets are refused with 503), so it stays in rotation and is not restarted. Answers at once
/// when the client knows it is disconnected, rather than waiting out a command timeout.
/// </summary>
public sealed class RedisBackplaneHealthCheck(IConnectionMultiplexer redis) : IHealthCheck
{
    public const string Name = "redis-backplane";

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        const string Down = "Redis is unreachable: stream tickets are refused (503) and stream limits count this replica only.";
        if (!redis.IsConnected)
        {
            return new HealthCheckResult(context.Registration.FailureStatus, Down);
        }

        try
        {
            await redis.GetDatabase().PingAsync().WaitAsync(cancellationToken);
            return HealthCheckResult.Healthy();
        }
        catch (Exception exception) when (exception is RedisException or TimeoutException)
        {
            return new HealthCheckResult(context.Registration.FailureStatus, Down, exception);
        }
    }
}
