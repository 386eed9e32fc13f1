using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Metrics.Api.Streaming;

/// <summary>How streams behave. Bound from the <c>Streaming</c> section and validated at start-up.</summary>
public sealed class StreamingOptions
{
    public const string SectionName = "Streaming";

    /// <summary>
    /// How often every stream gets a <c>ping</c> event. Only body bytes keep YARP (100 s) and Azure
    /// Container Apps (240 s) from closing an idle stream, so this stays at most half of YARP's limit.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:00:50")]
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// Live events a stream may have waiting. One more and the queue keeps only the newest event of each source
    /// (a <c>gap</c> event tells the client how many it skipped): a lagging client gets coarser, not cut.
    /// </summary>
    [Range(4, 100_000)]
    public int QueueCapacity { get; set; } = 128;

    /// <summary>
    /// A stream whose events have waited this long without the response taking any (the client reads nothing) is
    /// cut as a slow consumer.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan StalledStreamTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How many streams a fan-out wakes at a time; the next batch starts when the previous batch's writers have run.
    /// Bounds how many responses hold an unsent write at once (a 4 KiB pool block each). 0 wakes all at once.
    /// </summary>
    [Range(0, 1_000_000)]
    public int FanOutBatchSize { get; set; } = 256;

    /// <summary>Events kept for resuming (count bound). 0 turns replay off.</summary>
    [Range(0, 1_000_000)]
    public int ReplayCapacity { get; set; } = 300;

    /// <summary>Events kept for resuming (age bound).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan ReplayMaxAge { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Streams older than this (±10 % jitter) are asked to reconnect, which bounds half-open
    /// connections nobody noticed. Zero turns it off.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "1.00:00:00")]
    public TimeSpan MaxStreamAge { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>The <c>retry</c> sent with <c>ready</c> and <c>reconnect</c>: the client's reconnect delay.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:01:00")]
    public TimeSpan ReconnectDelay { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>Lower bound of the jittered <c>retry</c> on the shutdown event.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:01:00")]
    public TimeSpan ShutdownRetryMin { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Upper bound of the jittered <c>retry</c> on the shutdown event (spreads reconnects over replicas).</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:01:00")]
    public TimeSpan ShutdownRetryMax { get; set; } = TimeSpan.FromSeconds(5);
}

[OptionsValidator]
public sealed partial class StreamingOptionsValidator : IValidateOptions<StreamingOptions>;
