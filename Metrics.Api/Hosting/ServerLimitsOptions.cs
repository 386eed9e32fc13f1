using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Metrics.Api.Hosting;

/// <summary>
/// Kestrel and host limits sized for long-lived streams. Bound from <c>Streaming:Server</c>,
/// validated at start-up, and applied to both endpoints (HTTP/1.1 and h2c).
/// </summary>
public sealed class ServerLimitsOptions
{
    public const string SectionName = "Streaming:Server";

    /// <summary>Each HTTP/1.1 stream holds a whole connection; HTTP/2 streams share one.</summary>
    [Range(1, 1_000_000)]
    public long MaxConcurrentConnections { get; set; } = 20_000;

    /// <summary>
    /// Advertised as SETTINGS_MAX_CONCURRENT_STREAMS. The edge multiplexes every browser's stream over
    /// few h2c connections, so Kestrel's default of 100 would queue the 101st dashboard.
    /// </summary>
    [Range(100, 100_000)]
    public int Http2MaxStreamsPerConnection { get; set; } = 5_000;

    /// <summary>HTTP/2 PINGs find dead peers at this hop (they do not keep proxies' idle timers alive).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan Http2KeepAlivePingDelay { get; set; } = TimeSpan.FromSeconds(30);

    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan Http2KeepAlivePingTimeout { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>
    /// How long the host waits for requests on shutdown. Streams end at once, so this only bounds
    /// stragglers; it stays under Azure Container Apps' 30 s grace period so the host, not SIGKILL, decides.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:00:25")]
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>HTTP/1.1 request line (method, path and query: a stream ticket travels here). Longer gets 414.</summary>
    [Range(1024, 64 * 1024)]
    public int MaxRequestLineSize { get; set; } = 8 * 1024;

    /// <summary>One HTTP/2 header field, <c>:path</c> with its query included. Longer resets the request.</summary>
    [Range(4 * 1024, 64 * 1024)]
    public int Http2MaxRequestHeaderFieldSize { get; set; } = 16 * 1024;

    /// <summary>All request headers together (an Entra access token is a few KB). Larger gets 431.</summary>
    [Range(4 * 1024, 256 * 1024)]
    public int MaxRequestHeadersTotalSize { get; set; } = 32 * 1024;

    [Range(8, 1000)]
    public int MaxRequestHeaderCount { get; set; } = 100;
}

[OptionsValidator]
public sealed partial class ServerLimitsOptionsValidator : IValidateOptions<ServerLimitsOptions>;
