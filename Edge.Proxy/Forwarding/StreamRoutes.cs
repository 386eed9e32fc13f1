using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Model;

namespace Edge.Proxy.Forwarding;

/// <summary>What makes a route a stream route, and the rules such a route must follow.</summary>
public static class StreamRoutes
{
    public static bool IsStreamRoute(RouteConfig route) =>
        route.Metadata?.TryGetValue(EdgeProxyOptions.StreamMetadataKey, out var value) == true
        && bool.TryParse(value, out var isStream) && isStream;

    public static bool IsEventStream(string? contentType) =>
        contentType is not null && contentType.StartsWith("text/event-stream", StringComparison.OrdinalIgnoreCase);

    /// <summary>Before the response: a stream route, or a client that asks for an event stream (EventSource does).</summary>
    public static bool IsStreamRequest(HttpContext context) =>
        IsStreamRoute(context.GetReverseProxyFeature().Route.Config)
        || context.Request.Headers.Accept.Any(accept => accept?.Contains("text/event-stream", StringComparison.OrdinalIgnoreCase) == true);
}

/// <summary>
/// Checks stream routes whenever YARP loads its configuration: the first load happens while the app starts, so
/// a violation stops start-up; a later bad reload is logged by YARP and the previous configuration stays.
/// </summary>
public sealed class StreamRouteConfigFilter(IOptions<EdgeProxyOptions> options) : IProxyConfigFilter
{
    /// <summary>YARP's reserved policy name for "no request timeout".</summary>
    public const string DisableTimeoutPolicy = "Disable";

    // YARP's own default when a cluster sets none.
    private static readonly TimeSpan DefaultActivityTimeout = TimeSpan.FromSeconds(100);

    public ValueTask<ClusterConfig> ConfigureClusterAsync(ClusterConfig cluster, CancellationToken cancel) => new(cluster);

    public ValueTask<RouteConfig> ConfigureRouteAsync(RouteConfig route, ClusterConfig? cluster, CancellationToken cancel)
    {
        if (!StreamRoutes.IsStreamRoute(route))
        {
            return new(route);
        }

        if (route.Timeout is not null
            || (route.TimeoutPolicy is { } policy && !string.Equals(policy, DisableTimeoutPolicy, StringComparison.OrdinalIgnoreCase)))
        {
            throw new InvalidOperationException(
                $"Stream route '{route.RouteId}' sets a request timeout; a stream must not have one. Use \"TimeoutPolicy\": \"{DisableTimeoutPolicy}\".");
        }

        if (cluster is not null)
        {
            var heartbeat = options.Value.StreamHeartbeatInterval;
            var activityTimeout = cluster.HttpRequest?.ActivityTimeout ?? DefaultActivityTimeout;
            if (activityTimeout < heartbeat * 3)
            {
                throw new InvalidOperationException(
                    $"Stream route '{route.RouteId}' uses cluster '{cluster.ClusterId}', whose HttpRequest:ActivityTimeout ({activityTimeout}) " +
                    $"is shorter than three heartbeats ({EdgeProxyOptions.SectionName}:{nameof(EdgeProxyOptions.StreamHeartbeatInterval)} = {heartbeat}). " +
                    $"YARP would cut streams that are idle except for heartbeats; raise it to at least {heartbeat * 3}.");
            }

            if (cluster.HttpRequest?.AllowResponseBuffering == true)
            {
                throw new InvalidOperationException(
                    $"Stream route '{route.RouteId}' uses cluster '{cluster.ClusterId}', which allows response buffering; events would be held back.");
            }
        }

        // Explicit, so a default request-timeout policy can never apply to a stream.
        return new(route with { TimeoutPolicy = DisableTimeoutPolicy });
    }
}
