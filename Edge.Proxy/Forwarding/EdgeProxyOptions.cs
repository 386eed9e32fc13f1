using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Edge.Proxy.Forwarding;

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
    /// The longest heartbeat interval of any upstream stream (Metrics.Api: <c>Streaming:HeartbeatInterval</c>). A stream
    /// route's cluster must have an <c>HttpRequest:ActivityTimeout</c> of at least three of these, or YARP cuts idle
    /// streams. The edge cannot read an upstream's configuration, so this is declared, not discovered: raise it with
    /// any upstream's interval. The default equals Metrics.Api's (a test holds them together).
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

    /// <summary>What the edge forwards, no more than any upstream accepts; see <see cref="UpstreamLimits"/>.</summary>
    [ValidateObjectMembers]
    public UpstreamLimits UpstreamLimits { get; set; } = new();
}

/// <summary>
/// Header limits of the requests the edge forwards (section <c>Edge:Proxy:UpstreamLimits</c>), counted as the upstream
/// counts them: after the transforms, with the headers the edge adds (<c>X-Forwarded-*</c>, trace context) and the
/// HTTP/2 pseudo-headers. A request over a limit is answered 431 (414 for a long <c>:path</c>) by the edge and never
/// sent. They must not exceed the limits of any HTTP/2 upstream (Metrics.Api's <c>Streaming:Server</c>), whose Kestrel
/// answers an oversized header by ending the connection that every proxied stream shares.
/// </summary>
public sealed class UpstreamLimits
{
    /// <summary>Longest header name or value, <c>:path</c> included (Metrics.Api: <c>Http2MaxRequestHeaderFieldSize</c>).</summary>
    [Range(1024, 64 * 1024)]
    public int MaxRequestHeaderFieldSize { get; set; } = 16 * 1024;

    /// <summary>Names, values and 32 bytes per field, pseudo-headers included (Metrics.Api: <c>MaxRequestHeadersTotalSize</c>).</summary>
    [Range(4 * 1024, 256 * 1024)]
    public int MaxRequestHeadersTotalSize { get; set; } = 32 * 1024;

    /// <summary>
    /// Method, scheme, authority and path together, as Kestrel measures an HTTP/2 request line (Metrics.Api:
    /// <c>MaxRequestLineSize</c>); over it Kestrel resets the stream, which the edge would pass on as a 502.
    /// </summary>
    [Range(1024, 64 * 1024)]
    public int MaxRequestLineSize { get; set; } = 8 * 1024;

    /// <summary>Header fields, pseudo-headers included (Metrics.Api: <c>MaxRequestHeaderCount</c>).</summary>
    [Range(8, 1000)]
    public int MaxRequestHeaderCount { get; set; } = 100;
}

[OptionsValidator]
public sealed partial class EdgeProxyOptionsValidator : IValidateOptions<EdgeProxyOptions>;
