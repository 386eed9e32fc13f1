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
            }

            return default;
        });
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
