using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AppHost;

/// <summary>The edge's one public endpoint: HTTPS with HTTP/2 (ALPN h2) on a stable port, for browsers.</summary>
internal static partial class PublicEdge
{
    public const string EndpointName = "https";

    public static IResourceBuilder<ProjectResource> WithPublicHttpsEndpoint(this IResourceBuilder<ProjectResource> edge, int port)
    {
        var https = edge
            .WithHttpsEndpoint(port: port, name: EndpointName)
            .WithExternalHttpEndpoints()
            .GetEndpoint(EndpointName);

        return edge
            // Aspire binds an endpoint that the project's Kestrel configuration does not name on every interface
            // (https://*:port); locally the development certificate and the dev sign-in belong on loopback only.
            // (In Azure the platform ends TLS and the edge listens on h2c: no https listener at all.)
            .WithEnvironment(context =>
            {
                if (context.ExecutionContext.IsRunMode)
                {
                    context.EnvironmentVariables[$"Kestrel__Endpoints__{EndpointName}__Url"] =
                        ReferenceExpression.Create($"https://localhost:{https.Property(EndpointProperty.TargetPort)}");
                }
            })
            .WithUrls(urls =>
            {
                // In the resource list: the public page; the edge's internal endpoints stay in its details.
                foreach (var url in urls.Urls)
                {
                    var isPublic = url.Endpoint?.EndpointName == EndpointName;
                    url.DisplayText = isPublic ? "Live dashboard (HTTP/2)" : url.DisplayText;
                    url.DisplayLocation = isPublic ? UrlDisplayLocation.SummaryAndDetails : UrlDisplayLocation.DetailsOnly;
                }
            })
            .OnResourceReady((resource, ready, _) =>
            {
                // Beside the Aspire dashboard's login link: where the product itself is.
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
