using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;

namespace Metrics.Api.Streaming;

public static class StreamingExtensions
{
    /// <summary>
    /// The metrics stream: the in-memory event hub, the shared heartbeat, clean shutdown, options
    /// (validated at start-up) and the stream telemetry. What is published on it comes from elsewhere.
    /// </summary>
    public static TBuilder AddMetricsStreaming<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        var services = builder.Services;

        services.AddOptions<StreamingOptions>()
            .BindConfiguration(StreamingOptions.SectionName)
            .Validate(o => o.ShutdownRetryMin <= o.ShutdownRetryMax, "Streaming:ShutdownRetryMin must not exceed ShutdownRetryMax.")
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<StreamingOptions>, StreamingOptionsValidator>();

        services.TryAddSingleton(TimeProvider.System);
        services.AddMetrics();
        services.AddSingleton<StreamMetrics>();
        services.AddSingleton<StreamSubscribers>();
        services.AddSingleton<ControlEvents>();
        // A Redis backplane replaces this one line.
        services.AddSingleton<IEventHub, InMemoryEventHub>();

        services.AddHostedService<StreamShutdownService>();
        services.AddHostedService<HeartbeatService>();

        services.AddOpenTelemetry().WithMetrics(metrics => metrics.AddMeter(StreamMetrics.MeterName));
        return builder;
    }
}
