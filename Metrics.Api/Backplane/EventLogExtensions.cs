using Metrics.Api.Streaming;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Metrics.Api.Backplane;

public static class EventLogExtensions
{
    /// <summary>
    /// The Redis event log as the stream's hub, replacing the in-memory one: one log for every replica. Needs an
    /// <c>IConnectionMultiplexer</c> in the container (the backplane registration adds Aspire's Redis client).
    /// </summary>
    public static IServiceCollection AddRedisEventLog(this IServiceCollection services)
    {
        services.AddOptions<RedisEventLogOptions>()
            .BindConfiguration(RedisEventLogOptions.SectionName)
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<RedisEventLogOptions>, RedisEventLogOptionsValidator>();
        services.AddSingleton<RedisEventHub>();
        services.Replace(ServiceDescriptor.Singleton<IEventHub>(sp => sp.GetRequiredService<RedisEventHub>()));
        services.AddHostedService(sp => sp.GetRequiredService<RedisEventHub>());
        return services;
    }
}
