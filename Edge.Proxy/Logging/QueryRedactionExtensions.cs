using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using OpenTelemetry.Instrumentation.AspNetCore;
using OpenTelemetry.Instrumentation.Http;

namespace Edge.Proxy.Logging;

public static class QueryRedactionExtensions
{
    private const string UrlQueryTag = "url.query";
    private const string UrlFullTag = "url.full";

    /// <summary>
    /// Keeps the values of sensitive query parameters (the stream ticket) out of every log line and out of the
    /// request spans. Aspire turns OpenTelemetry's own query redaction off in Development
    /// (OTEL_DOTNET_EXPERIMENTAL_*_DISABLE_URL_QUERY_REDACTION), so the spans are redacted here as well.
    /// </summary>
    public static TBuilder AddQueryRedaction<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddOptions<QueryRedactionOptions>().BindConfiguration(QueryRedactionOptions.SectionName);
        builder.Services.AddSingleton(static services =>
            new QueryStringRedactor(services.GetRequiredService<IOptions<QueryRedactionOptions>>().Value.QueryParameters));

        // Every ILogger comes from this factory, whichever provider (console, OTLP, test capture) writes it.
        builder.Services.Replace(ServiceDescriptor.Singleton<ILoggerFactory>(static services => new RedactingLoggerFactory(
            new LoggerFactory(
                services.GetServices<ILoggerProvider>(),
                services.GetRequiredService<IOptionsMonitor<LoggerFilterOptions>>(),
                services.GetService<IOptions<LoggerFactoryOptions>>(),
                services.GetService<IExternalScopeProvider>()),
            services.GetRequiredService<QueryStringRedactor>())));

        builder.Services.AddOptions<AspNetCoreTraceInstrumentationOptions>()
            .Configure<QueryStringRedactor>(static (options, redactor) =>
            {
                var enrich = options.EnrichWithHttpRequest;
                options.EnrichWithHttpRequest = (activity, request) =>
                {
                    enrich?.Invoke(activity, request);
                    if (activity.GetTagItem(UrlQueryTag) is string query && redactor.MayContainSecret(query))
                    {
                        activity.SetTag(UrlQueryTag, redactor.Redact(query));
                    }
                };
            });
        builder.Services.AddOptions<HttpClientTraceInstrumentationOptions>()
            .Configure<QueryStringRedactor>(static (options, redactor) =>
            {
                var enrich = options.EnrichWithHttpRequestMessage;
                options.EnrichWithHttpRequestMessage = (activity, request) =>
                {
                    enrich?.Invoke(activity, request);
                    if (activity.GetTagItem(UrlFullTag) is string url && redactor.MayContainSecret(url))
                    {
                        activity.SetTag(UrlFullTag, redactor.Redact(url));
                    }
                };
            });

        return builder;
    }
}
