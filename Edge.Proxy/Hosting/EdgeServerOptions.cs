using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Edge.Proxy.Hosting;

/// <summary>
/// Kestrel and HTTP/2 limits of the edge (section <c>Edge:Server</c>). Endpoints and certificates stay in
/// Kestrel's own section (<c>Kestrel:Endpoints</c>, <c>Kestrel:Certificates:Default</c>), where the AppHost sets them.
/// </summary>
public sealed class EdgeServerOptions
{
    public const string SectionName = "Edge:Server";

    /// <summary>Open connections the edge accepts; null means no limit. Each HTTP/1.1 stream holds one.</summary>
    [Range(1L, long.MaxValue)]
    public long? MaxConcurrentConnections { get; set; }

    /// <summary>
    /// SETTINGS_MAX_CONCURRENT_STREAMS. Kestrel's default of 100 is too low: a browser multiplexes every
    /// EventSource of every tab of the origin, plus its API calls, over one connection.
    /// </summary>
    [Range(100, 10_000)]
    public int Http2MaxStreamsPerConnection { get; set; } = 500;

    /// <summary>Idle time after which the edge pings an HTTP/2 client to find dead peers.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan Http2KeepAlivePingDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long an unanswered ping may wait before the connection is closed.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan Http2KeepAlivePingTimeout { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>
    /// Longest header name or value (HPACK string) the edge reads over HTTP/2, <c>:path</c> included. Kestrel answers a
    /// longer one by ending the whole connection (COMPRESSION_ERROR): behind Container Apps that connection is the
    /// ingress's, shared by many users, so this is at least what the ingress forwards (Envoy: 60 KiB of headers). What
    /// the upstreams accept is enforced per request, with a 431, by <c>Edge:Proxy:UpstreamLimits</c>.
    /// </summary>
    [Range(16 * 1024, 256 * 1024)]
    public int MaxRequestHeaderFieldSize { get; set; } = 64 * 1024;

    /// <summary>
    /// Longest request line (HTTP/1.1) or <c>:path</c> (HTTP/2, where Kestrel resets a longer one). Longer than any
    /// upstream reads, so that the edge answers an over-long path itself, 414 with a problem body.
    /// </summary>
    [Range(8 * 1024, 256 * 1024)]
    public int MaxRequestLineSize { get; set; } = 64 * 1024;

    /// <summary>All request headers together (HTTP/2: names, values and 32 bytes each), as large as the ingress forwards.</summary>
    [Range(32 * 1024, 512 * 1024)]
    public int MaxRequestHeadersTotalSize { get; set; } = 64 * 1024;

    /// <summary>Header fields per request (HTTP/2: pseudo-headers included), more than the ingress forwards (Envoy: 100).</summary>
    [Range(100, 1000)]
    public int MaxRequestHeaderCount { get; set; } = 200;

    /// <summary>Idle time between requests on a kept-alive connection (Kestrel's default).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan KeepAliveTimeout { get; set; } = TimeSpan.FromSeconds(130);
}

[OptionsValidator]
public sealed partial class EdgeServerOptionsValidator : IValidateOptions<EdgeServerOptions>;
