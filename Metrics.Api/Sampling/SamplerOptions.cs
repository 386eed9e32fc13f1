using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Metrics.Api.Sampling;

/// <summary>The shared metrics sampler. Bound from <c>Streaming:Sampler</c> and validated at start-up.</summary>
public sealed class SamplerOptions
{
    public const string SectionName = "Streaming:Sampler";

    /// <summary>Whether the sampler publishes at all (benchmarks and tests publish their own events).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>How often one <c>metrics</c> event is published for all streams.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:01:00")]
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Where the cgroup v2 files are (cpu.max, cpu.stat, memory.max, memory.current).</summary>
    [Required]
    public string CgroupRoot { get; set; } = "/sys/fs/cgroup";

    /// <summary>Where /proc/stat and /proc/meminfo are, used when there is no cgroup v2.</summary>
    [Required]
    public string ProcRoot { get; set; } = "/proc";
}

[OptionsValidator]
public sealed partial class SamplerOptionsValidator : IValidateOptions<SamplerOptions>;
