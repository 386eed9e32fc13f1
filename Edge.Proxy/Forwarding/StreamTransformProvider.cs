using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;
using Yarp.ReverseProxy.Transforms;
using Yarp.ReverseProxy.Transforms.Builder;

namespace Edge.Proxy.Forwarding;

/// <summary>
/// Header rules for event streams, on every route: whatever the upstream sent, an SSE response leaves the edge
/// with <c>Cache-Control: no-cache, no-transform</c> (intermediaries must neither cache nor re-encode it) and
/// <c>X-Accel-Buffering: no</c> (for an nginx that may sit in front). On stream routes the upstream is also asked
/// for an uncompressed body: a compressed event can only be read once the compressor flushes.
/// </summary>
/// <remarks>
/// Once an event stream's response has started, the edge also lets go of the caller's bearer token: the incoming
/// request's <c>Authorization</c> header and the forwarded request's copy. The upstream has already accepted it, and a
/// stream is held for hours: 10,000 streams would otherwise keep 20,000 copies of live credentials in memory (and in
/// every heap dump). A stream ticket in the URL is left as it is: the upstream spent it when it accepted the stream.
/// </remarks>
public sealed class StreamTransformProvider : ITransformProvider
{
    private const string AccelBufferingHeader = "X-Accel-Buffering";

    public void ValidateRoute(TransformRouteValidationContext context)
    {
    }

    public void ValidateCluster(TransformClusterValidationContext context)
    {
    }

    public void Apply(TransformBuilderContext context)
    {
        if (StreamRoutes.IsStreamRoute(context.Route))
        {
            context.AddRequestHeaderRemove(HeaderNames.AcceptEncoding);
        }

        context.AddResponseTransform(static transformContext =>
        {
            var response = transformContext.HttpContext.Response;
            if (transformContext.ProxyResponse is not null && StreamRoutes.IsEventStream(response.ContentType))
            {
                response.Headers.CacheControl = WithStreamDirectives(response.Headers.CacheControl);
                response.Headers[AccelBufferingHeader] = "no";
                ReleaseBearerToken(transformContext);
            }

            return default;
        });
    }

    /// <summary>Drops the bearer token from the client's request and from the request forwarded upstream (already sent).</summary>
    private static void ReleaseBearerToken(ResponseTransformContext context)
    {
        if (context.HttpContext.Request.Headers.Authorization.Count > 0)
        {
            context.HttpContext.Request.Headers.Authorization = StringValues.Empty;
        }

        if (context.ProxyResponse?.RequestMessage is { } forwarded)
        {
            forwarded.Headers.Authorization = null;
        }
    }

    /// <summary>Keeps the upstream's directives (e.g. no-store) and adds no-cache and no-transform.</summary>
    public static string WithStreamDirectives(StringValues cacheControl)
    {
        var directives = new List<string>();
        foreach (var value in cacheControl)
        {
            foreach (var directive in (value ?? string.Empty).Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                if (!directives.Contains(directive, StringComparer.OrdinalIgnoreCase))
                {
                    directives.Add(directive);
                }
            }
        }

        foreach (var required in (ReadOnlySpan<string>)["no-cache", "no-transform"])
        {
            if (!directives.Contains(required, StringComparer.OrdinalIgnoreCase))
            {
                directives.Add(required);
            }
        }

        return string.Join(", ", directives);
    }
}
