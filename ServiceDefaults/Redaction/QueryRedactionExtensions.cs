using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenTelemetry.Instrumentation.AspNetCore;
using OpenTelemetry.Instrumentation.Http;
using ServiceDefaults.Redaction;

// Same namespace as AddServiceDefaults, so a service needs no using.
namespace Microsoft.Extensions.Hosting;

public static class QueryRedactionExtensions
{
    private const string UrlQueryTag = "url.query";
    private const string UrlFullTag = "url.full";

    /// <summary>
    /// Keeps query values out of every log entry and every request span (all of them but those of
    /// <c>Redaction:AllowedQueryParameters</c>; <c>ticket</c> and <c>access_token</c> in any spelling, always), and refuses to start outside Development when URL-query
    /// redaction was switched off. Part of <c>AddServiceDefaults()</c>; calling it again does nothing.
    /// </summary>
    /// <remarks>
    /// OpenTelemetry redacts every query value of spans by default, but Aspire's AppHost turns that off in
    /// Development (OTEL_DOTNET_EXPERIMENTAL_*_DISABLE_URL_QUERY_REDACTION), and no logger redacts at all: ASP.NET
    /// Core's "Request starting" and YARP's "Proxying to" print the full query. So both are redacted here.
    /// </remarks>
    public static TBuilder AddQueryRedaction<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (builder.Services.Any(d => d.ServiceType == typeof(QueryStringRedactor)))
        {
            return builder;
        }

        builder.Services.AddOptions<QueryRedactionOptions>()
            .BindConfiguration(QueryRedactionOptions.SectionName)
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<QueryRedactionOptions>, QueryRedactionGuard>();
        builder.Services.AddSingleton(static services =>
        {
            var options = services.GetRequiredService<IOptions<QueryRedactionOptions>>().Value;
            return new QueryStringRedactor(options.QueryParameters, options.AllowedQueryParameters);
        });

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
                    if (activity.GetTagItem(UrlQueryTag) is string query && redactor.RedactQuery(query) is var redacted && !ReferenceEquals(redacted, query))
                    {
                        activity.SetTag(UrlQueryTag, redacted);
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
                    if (activity.GetTagItem(UrlFullTag) is string url && redactor.Redact(url) is var redacted && !ReferenceEquals(redacted, url))
                    {
                        activity.SetTag(UrlFullTag, redacted);
                    }
                };
            });

        return builder;
    }
}
