using Microsoft.Net.Http.Headers;
using Yarp.ReverseProxy.Transforms;
using Yarp.ReverseProxy.Transforms.Builder;

namespace Edge.Proxy.Forwarding;

/// <summary>
/// On every route: the edge is the origin, so no upstream's <c>Server</c> header leaves it (its own Kestrel sends none).
/// Which request headers a route drops (<c>Cookie</c> on <c>/api</c>) is route configuration, in <c>ReverseProxy</c>.
/// </summary>
public sealed class UpstreamHeaderTransformProvider : ITransformProvider
{
    public void ValidateRoute(TransformRouteValidationContext context)
    {
    }

    public void ValidateCluster(TransformClusterValidationContext context)
    {
    }

    public void Apply(TransformBuilderContext context) => context.AddResponseHeaderRemove(HeaderNames.Server);
}
