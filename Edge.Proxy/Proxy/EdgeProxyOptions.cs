using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Edge.Proxy.Proxy;

/// <summary>
/// How the edge treats its upstreams (section <c>Edge:Proxy</c>). Routes and clusters themselves live in
/// the <c>ReverseProxy</c> section, as YARP reads them.
/// </summary>
public sealed class EdgeProxyOptions
{
    public const string SectionName = "Edge:Proxy";

    /// <summary>Route metadata key that marks a route as an event stream (value <c>true</c>).</summary>
    public const string StreamMetadataKey = "Edge.Stream";

    /// <summary>
    /// The heartbeat interval of the upstream streams (Metrics.Api sends one every 15 s). A stream route's cluster
    /// must have an <c>HttpRequest:ActivityTimeout</c> of at least three heartbeats, or YARP cuts idle streams.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:03:00")]
    public TimeSpan StreamHeartbeatInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// Total time allowed for a non-stream request; null means none (YARP's idle ActivityTimeout still applies).
    /// Stream routes are always exempt.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "01:00:00")]
    public TimeSpan? RequestTimeout { get; set; }

    /// <summary>Time to open a connection to an upstream before the edge answers 502.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:01:00")]
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Connections the edge opens to each upstream address, used in turn. More than one lets a layer-4 balancer in
    /// front of replicas (Aspire's DCP proxy locally, a TCP load balancer) spread HTTP/2 streams across them, which a
    /// single multiplexed connection cannot; it also splits Kestrel's per-connection write work.
    /// </summary>
    [Range(1, 64)]
    public int UpstreamConnections { get; set; } = 4;

    /// <summary>HTTP/2 ping interval towards upstreams, so a vanished upstream connection is noticed mid-stream.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan UpstreamKeepAlivePingDelay { get; set; } = TimeSpan.FromSeconds(30);

    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan UpstreamKeepAlivePingTimeout { get; set; } = TimeSpan.FromSeconds(20);
}

[OptionsValidator]
public sealed partial class EdgeProxyOptionsValidator : IValidateOptions<EdgeProxyOptions>;
