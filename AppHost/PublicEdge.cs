using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AppHost;

internal static partial class PublicEdge
{
    /// <summary>The edge's one public endpoint: HTTPS with HTTP/2 (ALPN h2) on a stable port, for browsers.</summary>
    public static IResourceBuilder<ProjectResource> WithPublicHttpsEndpoint(this IResourceBuilder<ProjectResource> edge, int port)
    {
        var https = edge.WithHttpsEndpoint(port: port, name: "https").WithExternalHttpEndpoints().GetEndpoint("https");
        return edge
            // Aspire binds an endpoint the project's Kestrel configuration does not name on every interface; the
            // development certificate and sign-in belong on loopback. (In Azure the platform ends TLS: no https listener.)
            .WithEnvironment(context =>
            {
                if (context.ExecutionContext.IsRunMode)
                {
                    context.EnvironmentVariables["Kestrel__Endpoints__https__Url"] =
                        ReferenceExpression.Create($"https://localhost:{https.Property(EndpointProperty.TargetPort)}");
                }
            })
            // In the Aspire dashboard's resource list: the public page; the internal endpoints stay in the details.
            .WithUrlForEndpoint("https", url => url.DisplayText = "Live dashboard (HTTP/2)")
            .WithUrlForEndpoint("http", url => url.DisplayLocation = UrlDisplayLocation.DetailsOnly)
            .WithUrlForEndpoint("h2c", url => url.DisplayLocation = UrlDisplayLocation.DetailsOnly)
            .OnResourceReady((_, ready, _) =>
            {
                var logger = ready.Services.GetRequiredService<ILoggerFactory>().CreateLogger("AppHost");
                if (logger.IsEnabled(LogLevel.Information))
                {
                    LiveDashboardReady(logger, https.Url);
                }

                return Task.CompletedTask;
            });
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Live dashboard (edge, HTTPS + HTTP/2): {Url}")]
    private static partial void LiveDashboardReady(ILogger logger, string url);
}
