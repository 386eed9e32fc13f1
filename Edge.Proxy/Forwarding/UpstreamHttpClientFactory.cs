using System.Diagnostics;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Forwarder;

namespace Edge.Proxy.Forwarding;

/// <summary>
/// YARP's client factory with the edge's connect timeout and HTTP/2 keep-alive pings towards upstreams, and the
/// header limits of <see cref="UpstreamHeaderLimitHandler"/> as the last step before a request leaves.
/// Pings find a dead upstream connection under an open stream; they do not reset YARP's ActivityTimeout,
/// which only application bytes (heartbeats) do. Each cluster gets <see cref="EdgeProxyOptions.UpstreamConnections"/>
/// connection pools, used in turn.
/// </summary>
public sealed class UpstreamHttpClientFactory(
    ILogger<ForwarderHttpClientFactory> logger, ILogger<UpstreamHeaderLimitHandler> limitLogger, IOptions<EdgeProxyOptions> options)
    : ForwarderHttpClientFactory(logger)
{
    protected override void ConfigureHandler(ForwarderHttpClientContext context, SocketsHttpHandler handler)
    {
        base.ConfigureHandler(context, handler);

        var edge = options.Value;
        handler.ConnectTimeout = edge.ConnectTimeout;
        handler.KeepAlivePingDelay = edge.UpstreamKeepAlivePingDelay;
        handler.KeepAlivePingTimeout = edge.UpstreamKeepAlivePingTimeout;
        handler.KeepAlivePingPolicy = HttpKeepAlivePingPolicy.WithActiveRequests;
    }

    protected override HttpMessageHandler WrapHandler(ForwarderHttpClientContext context, HttpMessageHandler handler)
    {
        ArgumentNullException.ThrowIfNull(context);
        var upstream = options.Value.UpstreamConnections == 1 ? handler : new ConnectionSpreadingHandler(Pools(context, handler));
        return base.WrapHandler(context, new UpstreamHeaderLimitHandler(options.Value.UpstreamLimits, context.ClusterId, limitLogger) { InnerHandler = upstream });
    }

    /// <summary><paramref name="first"/> and as many more pools, each configured as YARP configures the first (ForwarderHttpClientFactory.CreateClient).</summary>
    private List<HttpMessageInvoker> Pools(ForwarderHttpClientContext context, HttpMessageHandler first)
    {
        var pools = new List<HttpMessageInvoker>(options.Value.UpstreamConnections) { new(first) };
        while (pools.Count < options.Value.UpstreamConnections)
        {
            var another = new SocketsHttpHandler
            {
                UseProxy = false,
                AllowAutoRedirect = false,
                AutomaticDecompression = System.Net.DecompressionMethods.None,
                UseCookies = false,
                EnableMultipleHttp2Connections = true,
                ActivityHeadersPropagator = new ReverseProxyPropagator(DistributedContextPropagator.Current),
                ConnectTimeout = TimeSpan.FromSeconds(15),
            };
            ConfigureHandler(context, another);
            pools.Add(new HttpMessageInvoker(another));
        }

        return pools;
    }
}
