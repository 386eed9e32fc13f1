using Metrics.Api.Auth;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Metrics.Api.Backplane;

public static class BackplaneExtensions
{
    /// <summary>
    /// <c>Streaming:Backplane</c>, read while services are registered (the choice decides which are), so other
    /// registrations (the event hub) can follow the same setting. An unknown value throws, naming the key.
    /// </summary>
    public static BackplaneKind GetStreamBackplane(this IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return (configuration.GetSection(BackplaneOptions.SectionName).Get<BackplaneOptions>() ?? new BackplaneOptions()).Backplane;
    }

    /// <summary>
    /// What replicas share, chosen by <c>Streaming:Backplane</c>. <c>InMemory</c> (the default) registers nothing:
    /// the auth registrations keep their per-replica ticket cache and stream limiter. <c>Redis</c> registers the
    /// Aspire Redis client (<c>ConnectionStrings:redis</c>; logging and tracing from the integration) as
    /// <see cref="StackExchange.Redis.IConnectionMultiplexer"/>, a Degraded-on-failure health check, the shared ticket
    /// replay cache, the cross-replica stream limiter with its renewal loop, and the event log as the stream's hub. Order-independent with
    /// <c>AddMetricsApiAuth</c>: those register with TryAdd, these replace.
    /// </summary>
    public static TBuilder AddStreamBackplane<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (builder.Configuration.GetStreamBackplane() != BackplaneKind.Redis)
        {
            return builder;
        }

        if (string.IsNullOrWhiteSpace(builder.Configuration.GetConnectionString(BackplaneOptions.RedisConnectionName)))
        {
            throw new InvalidOperationException(
                $"Streaming:Backplane is Redis but ConnectionStrings:{BackplaneOptions.RedisConnectionName} is not set. Set it to a "
                + "StackExchange.Redis connection string (the AppHost's WithReference(redis) does), or set Streaming:Backplane to InMemory.");
        }

        builder.AddRedisClient(
            BackplaneOptions.RedisConnectionName,
            // Aspire's own check reports Unhealthy and waits out a command timeout when Redis is down; ours below does not.
            static settings => settings.DisableHealthChecks = true,
            // Aspire's default too, but a connection string's abortConnect=true must not make a Redis outage at start
            // a crash: the client keeps reconnecting in the background.
            static redis => redis.AbortOnConnectFail = false);

        var services = builder.Services;
        services.TryAddSingleton(TimeProvider.System);
        services.AddMetrics();
        services.TryAddSingleton<BackplaneMetrics>();
        services.TryAddSingleton<RedisOutage>();
        services.Replace(ServiceDescriptor.Singleton<ITicketReplayCache, RedisTicketReplayCache>());
        services.TryAddSingleton<RedisUserStreamLimiter>();
        services.Replace(ServiceDescriptor.Singleton<IUserStreamLimiter>(static sp => sp.GetRequiredService<RedisUserStreamLimiter>()));
        services.AddHostedService<StreamLeaseRenewalService>();
        services.AddRedisEventLog();
        services.AddHealthChecks().AddCheck<RedisBackplaneHealthCheck>(
            RedisBackplaneHealthCheck.Name, failureStatus: HealthStatus.Degraded, timeout: TimeSpan.FromSeconds(2));
        return builder;
    }
}
