using Microsoft.Extensions.Http.Resilience;

namespace Dashboard.Web.MetricsApi;

public static class MetricsApiExtensions
{
    /// <summary>Where Metrics.Api is: a service-discovery name (services__metrics-api__http__0 resolves it).</summary>
    public const string BaseAddressKey = "MetricsApi:BaseAddress";
    public const string DefaultBaseAddress = "http://metrics-api";

    /// <summary>
    /// The typed client for Metrics.Api, with service discovery from ServiceDefaults and the standard
    /// resilience handler tuned for a short call a page waits on: attempts of 3 s, two quick retries,
    /// 10 s in all (ServiceDefaults' handler is swapped for this one, as the resilience docs show).
    /// </summary>
    public static TBuilder AddMetricsApiClient<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        var baseAddress = new Uri(builder.Configuration[BaseAddressKey] ?? DefaultBaseAddress);
        var client = builder.Services.AddHttpClient<MetricsApiClient>(client => client.BaseAddress = baseAddress);
#pragma warning disable EXTEXP0001 // the documented way to replace the defaults for one client; experimental in 10.x
        client.RemoveAllResilienceHandlers();
#pragma warning restore EXTEXP0001
        client.AddStandardResilienceHandler(options =>
        {
            options.AttemptTimeout.Timeout = TimeSpan.FromSeconds(3);
            options.TotalRequestTimeout.Timeout = TimeSpan.FromSeconds(10);
            options.Retry.MaxRetryAttempts = 2;
            options.Retry.Delay = TimeSpan.FromMilliseconds(200);
        });
        return builder;
    }
}
