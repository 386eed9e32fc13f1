using System.Diagnostics;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Forwarder;

namespace Edge.Proxy.Proxy;

/// <summary>
/// YARP's client factory with the edge's connect timeout and HTTP/2 keep-alive pings towards upstreams.
/// Pings find a dead upstream connection under an open stream; they do not reset YARP's ActivityTimeout,
/// which only application bytes (heartbeats) do. Each cluster gets <see cref="EdgeProxyOptions.UpstreamConnections"/>
/// connection pools, used in turn.
/// </summary>
public sealed class UpstreamHttpClientFactory(ILogger<ForwarderHttpClientFactory> logger, IOptions<EdgeProxyOptions> options)
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
        var connections = options.Value.UpstreamConnections;
        if (connections == 1)
        {
            return base.WrapHandler(context, handler);
        }

        var pools = new List<HttpMessageInvoker>(connections) { new(base.WrapHandler(context, handler)) };
        while (pools.Count < connections)
        {
            // Configured exactly as YARP configures the first one (ForwarderHttpClientFactory.CreateClient).
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
            pools.Add(new HttpMessageInvoker(base.WrapHandler(context, another)));
        }

        return new ConnectionSpreadingHandler(pools);
    }
}
