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

    /// <summary>Idle time between requests on a kept-alive connection (Kestrel's default).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan KeepAliveTimeout { get; set; } = TimeSpan.FromSeconds(130);
}

[OptionsValidator]
public sealed partial class EdgeServerOptionsValidator : IValidateOptions<EdgeServerOptions>;
