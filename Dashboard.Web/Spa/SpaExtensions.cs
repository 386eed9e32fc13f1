using Dashboard.Web.Apis;
using Microsoft.AspNetCore.StaticFiles;

namespace Dashboard.Web.Spa;

public static class SpaExtensions
{
    public const string ImmutableCacheControl = "public, max-age=31536000, immutable";
    public const string NoCache = "no-cache";

    /// <summary>
    /// The single-page app vite built into wwwroot: files from the build's static web assets manifest
    /// (MapStaticAssets: ETags, compression), hashed /assets/* cached for a year as immutable, and every
    /// other GET that is not a file, /bff or /api answered with index.html, revalidated on every load.
    /// </summary>
    public static WebApplication MapSpa(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapStaticAssets().Add(CacheHashedAssetsForever);

        // /api belongs to Metrics.Api (the edge routes it there); here it is a plain 404, never the page.
        app.Map("/api/{**rest}", static () => TypedResults.Problem(BffProblems.NotFound("The API is served by Metrics.Api through the edge.")))
            .ExcludeFromDescription();

        app.MapFallbackToFile("index.html", new StaticFileOptions
        {
            OnPrepareResponse = static context => context.Context.Response.Headers.CacheControl = NoCache,
        }).WithMetadata(new HttpMethodMetadata([HttpMethods.Get, HttpMethods.Head]));
        return app;
    }

    /// <summary>Vite names everything under /assets/ by content hash: a URL's bytes never change.</summary>
    private static void CacheHashedAssetsForever(EndpointBuilder endpoint)
    {
        if (endpoint is not RouteEndpointBuilder { RoutePattern.RawText: { } route }
            || !route.TrimStart('/').StartsWith("assets/", StringComparison.Ordinal)
            || endpoint.RequestDelegate is not { } inner)
        {
            return;
        }

        endpoint.RequestDelegate = context =>
        {
            // After MapStaticAssets has written its own (no-cache) header, before anything is sent.
            context.Response.OnStarting(static state =>
            {
                var response = (HttpResponse)state;
                if (response.StatusCode is StatusCodes.Status200OK or StatusCodes.Status206PartialContent or StatusCodes.Status304NotModified)
                {
                    response.Headers.CacheControl = ImmutableCacheControl;
                }

                return Task.CompletedTask;
            }, context.Response);
            return inner(context);
        };
    }
}
