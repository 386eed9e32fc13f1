extern alias MetricsApi;

using Edge.Proxy.Forwarding;
using MetricsApi::Metrics.Api.Streaming;

namespace Edge.Proxy.Tests;

/// <summary>
/// Settings the edge declares about Metrics.Api because it cannot read them across processes: their defaults must agree.
/// </summary>
public sealed class UpstreamContractTests
{
    [Fact]
    public void Edge_heartbeat_default_is_metrics_api_heartbeat_default()
    {
        Assert.Equal(new StreamingOptions().HeartbeatInterval, new EdgeProxyOptions().StreamHeartbeatInterval);
    }
}
