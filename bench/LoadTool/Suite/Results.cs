using System.Globalization;

namespace LoadTool;

/// <summary>Everything one suite run measured; saved as results.json and turned into docs/benchmarks.md.</summary>
public sealed record SuiteResults
{
    public required bool Quick { get; init; }
    public required DateTimeOffset StartedAt { get; init; }
    public DateTimeOffset FinishedAt { get; set; }
    public required MachineInfo Machine { get; init; }
    public required SuiteOptions Settings { get; init; }
    public List<TargetDescription> Targets { get; init; } = [];
    public List<ScenarioResult> Results { get; init; } = [];
    public List<ProfileResult> Profiles { get; init; } = [];
    public List<string> Errors { get; init; } = []; // Scenarios that could not run (a server did not start, a worker failed), with the reason.
    public string CommandLine { get; init; } = "";
}

public sealed record MachineInfo(
    int Cores, string CpuModel, long MemoryBytes, string Kernel, string Os, string DotNet, string Nginx, string Nchan, int OpenFilesLimit, string GitCommit, bool GitDirty);

public sealed record TargetDescription(string Name, string Title, string Transport, string Auth, string Processes, bool Ours);

/// <summary>One scenario against one target. Fields that do not apply are null.</summary>
public sealed record ScenarioResult
{
    public required string Scenario { get; init; }
    public required string Target { get; init; }
    public int Streams { get; init; }
    public double Rate { get; init; }
    public int Workers { get; init; }
    public LoadReport? Open { get; init; }
    public LoadReport? Measure { get; init; }
    public LoadReport? Churn { get; init; }
    public ProcSample? ServerIdle { get; init; } // Server processes (with descendants) after start and warm-up, before any load.
    public ProcSample? ServerHalf { get; init; } // With half of the streams open (W1), for the marginal cost of a stream.
    public int OpenAtHalf { get; init; } // Streams open when ServerHalf was read.
    public ProcSample? ServerBeforeChurn { get; init; } // W3: the baseline after the warm-up's settle time (with ServerIdle: idle CPU before the churn).
    public ProcSample? ServerFull { get; init; } // With every stream open, before the window.
    public ProcSample? ServerWindowStart { get; init; }
    public ProcSample? ServerWindowEnd { get; init; }
    public ProcSample? ServerAfterChurn { get; init; } // W3: right after the churn, and after the idle period.
    public ProcSample? ServerIdleMid { get; init; } // W3: halfway through the idle period; CPU is read over its second half (after the churn's tail).
    public ProcSample? ServerAfterIdle { get; init; }
    public int? ServerReportedOpenAfterIdle { get; init; } // W3: open streams the server itself reports after the idle period (null where it cannot say).
    public int[]? ReplicaOpen { get; init; } // edge-redis W1: open streams each Metrics.Api replica reports at the window's end.
    public ProcSample? RedisWindowStart { get; init; } // edge-redis: redis-server, apart from the server figures.
    public ProcSample? RedisWindowEnd { get; init; }
    public double? AllocatedPerEvent { get; init; } // Fan-out: bytes the server (in process: the whole process) allocated per delivered event, and net of its idle rate.
    public double? NetAllocatedPerEvent { get; init; }
    public double? GcHeapPerStream { get; init; } // Fan-out: GC heap (in process: managed memory) per open stream.
    public string? Error { get; init; }

    // Derived figures, so that the report and readers of results.json agree.
    public double? LatencyP50Ms => Latency(0.50);
    public double? LatencyP90Ms => Latency(0.90);
    public double? LatencyP99Ms => Latency(0.99);
    public double? LatencyMaxMs => Measure is null ? null : Histogram.FromSparse(Measure.LatencyMicroseconds) is { Count: > 0 } h ? h.Max / 1000.0 : null;
    public double? EventsPerSecond => Measure is { WindowSeconds: > 0 } m ? m.Events / m.WindowSeconds : null;
    public double? OfferedPerSecond => Open is { } o ? o.Open * Rate : null; // Streams open × rate: what the publisher offered to the streams during the window.

    /// <summary>Delivered events/s capped at the offered rate: a server that fell behind and caught up inside the window delivers a backlog, not throughput.</summary>
    public double? SustainedPerSecond => EventsPerSecond is { } d && OfferedPerSecond is { } o ? Math.Min(d, o) : EventsPerSecond;
    public double? ServerCores => Cores(ServerWindowStart, ServerWindowEnd, s => s.CpuSeconds);
    public double? RedisCores => Cores(RedisWindowStart, RedisWindowEnd, s => s.CpuSeconds);
    public double? ClientCores => Measure is { WindowSeconds: > 0 } m ? m.ClientCpuSeconds / m.WindowSeconds : null;

    /// <summary>CPU of every other process on the machine during the window (other people's work, the suite itself).</summary>
    public double? OtherCores => Cores(ServerWindowStart, ServerWindowEnd, s => s.MachineBusySeconds) is > 0 and var busy ? Math.Max(0, busy - (ServerCores ?? 0) - (ClientCores ?? 0) - (RedisCores ?? 0)) : null;

    /// <summary>RSS added per stream between half and all streams open: the marginal cost of one more stream.</summary>
    public double? RssPerStreamMarginalBytes => ServerHalf is { } h && ServerFull is { } f && Open is { } o && o.Open > OpenAtHalf ? (double)(f.RssBytes - h.RssBytes) / (o.Open - OpenAtHalf) : null;

    /// <summary>RSS (and PSS) added per stream between no stream and all streams open.</summary>
    public double? RssPerStreamTotalBytes => ServerIdle is { } i && ServerFull is { } f && Open is { Open: > 0 } o ? (double)(f.RssBytes - i.RssBytes) / o.Open : null;
    public double? PssPerStreamTotalBytes => ServerIdle is { } i && ServerFull is { } f && Open is { Open: > 0 } o ? (double)(f.PssBytes - i.PssBytes) / o.Open : null;

    /// <summary>
    /// Each server process of a target that has several (Metrics.Api and Edge.Proxy): its cores over the window and the RSS
    /// it added per open stream, so a figure summed over the target says which process it comes from.
    /// </summary>
    public IReadOnlyList<ProcessShare>? ByProcess =>
        ServerIdle?.Parts is { } idle && ServerFull?.Parts is { } full && ServerWindowStart?.Parts is { } start && ServerWindowEnd?.Parts is { } end
        && Open is { Open: > 0 } o && (ServerWindowEnd.At - ServerWindowStart.At).TotalSeconds is > 0 and var seconds
        && idle.Count == full.Count && start.Count == end.Count && idle.Count == start.Count
            ? [.. start.Select((part, i) => new ProcessShare(part.Name, (end[i].CpuSeconds - part.CpuSeconds) / seconds, (double)(full[i].RssBytes - idle[i].RssBytes) / o.Open))]
            : null;

    /// <summary>Cores used between two readings by what <paramref name="seconds"/> reads.</summary>
    public static double? Cores(ProcSample? a, ProcSample? b, Func<ProcSample, double> seconds) =>
        a is null || b is null || (b.At - a.At).TotalSeconds <= 0 ? null : (seconds(b) - seconds(a)) / (b.At - a.At).TotalSeconds;

    /// <summary>The p99 of one event over its subscribers: the median and the worst over the window (fan-out scenario).</summary>
    public (double Median, double Worst)? EventP99Ms() => Measure?.EventP99Microseconds is { Length: > 0 } p ? (p[p.Length / 2] / 1000, p[^1] / 1000) : null;

    /// <summary>One line for the suite's log and the standalone commands.</summary>
    public string Summary() => Error is not null ? "ERROR " + Error.Split('\n')[0]
        : Churn is { } c ? string.Create(CultureInfo.InvariantCulture, $"{c.Completed:N0}/{c.Requested:N0} cycles in {c.Seconds:F1} s, failures {LoadReport.Causes(c.Failures)}, open after idle {ServerReportedOpenAfterIdle?.ToString(CultureInfo.InvariantCulture) ?? "n/a"}")
        : string.Create(CultureInfo.InvariantCulture, $"open {Open?.Open:N0}/{Streams:N0} (failures {LoadReport.Causes(Open?.Failures)}), {EventsPerSecond:N0} ev/s, p50 {LatencyP50Ms:F2} ms, p99 {LatencyP99Ms:F2} ms, server {ServerCores:F2} cores, client {ClientCores:F2}, others {OtherCores:F2}, RSS/stream {RssPerStreamTotalBytes / 1024:F1} KiB");

    private double? Latency(double q) =>
        Measure is null ? null : Histogram.FromSparse(Measure.LatencyMicroseconds) is { Count: > 0 } h ? h.Quantile(q) / 1000.0 : null;
}

/// <summary>One server process's part of a result: cores over the window, RSS added per open stream.</summary>
public sealed record ProcessShare(string Process, double Cores, double RssPerStreamBytes);

/// <param name="Tool">perf (CPU samples, JIT frames named through perf maps) or dotnet-trace (thread time).</param>
/// <param name="TopFrames">The profiler's own summary (top symbols, and for perf the split by module).</param>
/// <param name="Heap">dotnet-gcdump report (largest types), with RSS before and after the full GC it forces.</param>
/// <param name="SymbolMap">The process's perf map (JIT-compiled frames' names), kept beside the raw profile.</param>
public sealed record ProfileResult(string Target, string Process, string Scenario, string Tool, string TraceFile, string TopFrames, string? Heap = null, string? SymbolMap = null);
