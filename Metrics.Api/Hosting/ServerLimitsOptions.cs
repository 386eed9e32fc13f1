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
}

[OptionsValidator]
public sealed partial class ServerLimitsOptionsValidator : IValidateOptions<ServerLimitsOptions>;
