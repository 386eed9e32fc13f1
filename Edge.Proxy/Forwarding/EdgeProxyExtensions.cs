using Edge.Proxy.Telemetry;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using Yarp.ReverseProxy.Forwarder;

namespace Edge.Proxy.Forwarding;

public static class EdgeProxyExtensions
{
    /// <summary>YARP's ActivitySource (one "proxy.forwarder" activity per proxied request).</summary>
    public const string YarpActivitySourceName = "Yarp.ReverseProxy";

    /// <summary>
    /// YARP, configured from the <c>ReverseProxy</c> section, with destinations resolved by service discovery,
    /// the stream rules, the upstream header limits, problem bodies for upstream failures, and the proxy's telemetry.
    /// </summary>
    public static TBuilder AddEdgeProxy<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddOptions<EdgeProxyOptions>()
            .BindConfiguration(EdgeProxyOptions.SectionName)
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<EdgeProxyOptions>, EdgeProxyOptionsValidator>();
        builder.Services.AddSingleton<IValidateOptions<EdgeProxyOptions>, UpstreamLimitsValidator>();

        builder.Services.AddProblemDetails();

        builder.Services.AddReverseProxy()
            .LoadFromConfig(builder.Configuration.GetSection("ReverseProxy"))
            // Destinations written as service names (http://_h2c.metrics-api) resolve through Microsoft.Extensions.ServiceDiscovery:
            // services__{name}__{endpoint}__N from the AppHost locally, DNS (pass-through) in Azure Container Apps.
            .AddServiceDiscoveryDestinationResolver()
            .AddConfigFilter<StreamRouteConfigFilter>()
            .AddTransforms<StreamTransformProvider>()
            .AddTransforms<UpstreamHeaderTransformProvider>();
        builder.Services.Replace(ServiceDescriptor.Singleton<IForwarderHttpClientFactory, UpstreamHttpClientFactory>());

        builder.Services.AddSingleton<EdgeProxyMetrics>();
        builder.Services.AddOpenTelemetry()
            .WithTracing(tracing => tracing.AddSource(YarpActivitySourceName))
            .WithMetrics(metrics => metrics.AddMeter(EdgeProxyMetrics.MeterName));

        return builder;
    }

    /// <summary>Maps the proxy with its pipeline: telemetry, stream shutdown and problem bodies, around YARP's defaults.</summary>
    public static WebApplication MapEdgeProxy(this WebApplication app)
    {
        app.MapReverseProxy(proxy =>
        {
            proxy.UseMiddleware<ProxyTelemetryMiddleware>();
            proxy.UseMiddleware<StreamShutdownMiddleware>();
            proxy.UseMiddleware<UpstreamProblemMiddleware>();
            proxy.UseSessionAffinity();
            proxy.UseLoadBalancing();
            proxy.UsePassiveHealthChecks();
        });
        return app;
    }
}
