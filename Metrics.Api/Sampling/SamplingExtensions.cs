using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Metrics.Api.Sampling;

public static class SamplingExtensions
{
    /// <summary>
    /// The one shared sampler: a <c>metrics</c> event every <c>Streaming:Sampler:Interval</c>, published through the
    /// stream's <see cref="Streaming.IEventHub"/>. Options are validated at start-up.
    /// </summary>
    public static TBuilder AddMetricsSampling<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        var services = builder.Services;

        services.AddOptions<SamplerOptions>()
            .BindConfiguration(SamplerOptions.SectionName)
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<SamplerOptions>, SamplerOptionsValidator>();

        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<MetricsCollector>();
        services.AddHostedService<MetricsSampler>();
        return builder;
    }
}
