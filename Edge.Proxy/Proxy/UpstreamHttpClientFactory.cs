using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Forwarder;

namespace Edge.Proxy.Proxy;

/// <summary>
/// YARP's client factory with the edge's connect timeout and HTTP/2 keep-alive pings towards upstreams, and the
/// header limits of <see cref="UpstreamHeaderLimitHandler"/> as the last step before a request leaves.
/// Pings find a dead upstream connection under an open stream; they do not reset YARP's ActivityTimeout,
/// which only application bytes (heartbeats) do.
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
        return base.WrapHandler(context, new UpstreamHeaderLimitHandler(options.Value.UpstreamLimits, context.ClusterId, limitLogger) { InnerHandler = handler });
    }
}
