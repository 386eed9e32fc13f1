using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Metrics.Api.Backplane;

/// <summary>The shared event log on Redis. Bound from <c>Streaming:EventLog</c> and validated at start-up.</summary>
public sealed class RedisEventLogOptions
{
    public const string SectionName = "Streaming:EventLog";

    /// <summary>The Redis stream every replica appends to; its notification channel is this plus <c>:appended</c>.</summary>
    [Required]
    [RegularExpression("^[A-Za-z0-9:._-]{1,128}$")]
    public string Key { get; set; } = "live-metrics:events";

    /// <summary>
    /// How often each replica reads the log when no notification came (a notification lost while reconnecting is
    /// caught up within this).
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:01:00")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Entries read per round trip.</summary>
    [Range(1, 10_000)]
    public int ReadBatch { get; set; } = 512;
}

[OptionsValidator]
public sealed partial class RedisEventLogOptionsValidator : IValidateOptions<RedisEventLogOptions>;
