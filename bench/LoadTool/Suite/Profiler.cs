using System.Globalization;
using System.Text;
namespace LoadTool;

/// <summary>
/// Profiles of one .NET process under load, in a pass of their own after the measured scenarios:
/// <list type="bullet">
/// <item>CPU: <c>perf record -g</c> (real CPU samples, kernel and native code included; the services run with
/// DOTNET_PerfMapEnabled=1 in this pass so JIT-compiled frames have names), summarized by module and by symbol.
/// Without perf: <c>dotnet-trace</c> thread-time samples (which mostly show waiting threads).</item>
/// <item>Memory: <c>dotnet-counters</c> (GC heap by generation against the working set) and <c>dotnet-gcdump</c>
/// (what the heap holds, per open stream), with RSS before and after the full GC the dump forces.</item>
/// </list>
/// The .NET tools come from bench/.tools (bench/run.sh --profile installs them), perf from Debian's linux-perf.
/// </summary>
public static class Profiler
{
    private const string Perf = "/usr/bin/perf";

    public static bool HasPerf => File.Exists(Perf);

    public static async Task<ProfileResult?> CollectAsync(SuiteOptions options, string target, string processName, int pid, string label)
    {
        var dir = Path.Combine(options.ResultsDir, "profiles");
        Directory.CreateDirectory(dir);
        var stem = Path.Combine(dir, $"{target}-{label}-{processName}");
        var countersTask = CountersAsync(options, pid, stem + ".counters.csv");
        var cpu = HasPerf ? await PerfAsync(options, pid, stem + ".perf.data") : await DotnetTraceAsync(options, pid, stem + ".nettrace");
        var counters = await countersTask;
        return cpu is null ? null : new ProfileResult(target, processName, label, cpu.Value.Tool, Path.GetRelativePath(options.Repo, cpu.Value.File), cpu.Value.Summary, counters);
    }

    /// <summary>dotnet-gcdump of the process: largest types, per stream, and what a full GC gives back.</summary>
    public static async Task<string?> HeapAsync(SuiteOptions options, string target, string processName, int pid, string label, int streams)
    {
        var gcdump = Path.Combine(options.Tools, "dotnet-gcdump");
        if (!File.Exists(gcdump))
        {
            return null;
        }

        var file = Path.Combine(options.ResultsDir, "profiles", $"{target}-{label}-{processName}.gcdump");
        var rssBefore = ProcStats.ResidentBytes(pid);
        var (code, output) = await Child.RunAsync(gcdump, ["collect", "-p", pid.ToString(CultureInfo.InvariantCulture), "-o", file], TimeSpan.FromSeconds(120));
        await Task.Delay(1000);
        var rssAfter = ProcStats.ResidentBytes(pid);
        if (code != 0 || !File.Exists(file))
        {
            return $"dotnet-gcdump collect failed ({code}): {output.Trim()}";
        }

        var (_, report) = await Child.RunAsync(gcdump, ["report", file], TimeSpan.FromSeconds(120));
        var c = CultureInfo.InvariantCulture;
        var heap = report.Split('\n').FirstOrDefault(l => l.Contains("GC Heap bytes", StringComparison.Ordinal))?.Trim() ?? "";
        var heapBytes = long.TryParse(heap.Split(' ')[0].Replace(",", "", StringComparison.Ordinal), c, out var h) ? h : 0;
        var builder = new StringBuilder();
        builder.AppendLine(string.Create(c, $"{streams:N0} streams open. Live GC heap {heapBytes / 1048576.0:F1} MiB ({heapBytes / 1024.0 / Math.Max(1, streams):F1} KiB per stream, fixed costs included); RSS {rssBefore / 1048576.0:F1} MiB before the dump's full GC, {rssAfter / 1048576.0:F1} MiB after."));
        builder.AppendLine("Largest types by total size (dotnet-gcdump report lists size per object and count; total = size × count):");
        builder.AppendLine("     total KiB   per stream B      count  type");
        foreach (var (total, count, type) in HeapRows(report).OrderByDescending(r => r.Total).Take(20))
        {
            builder.AppendLine(string.Create(c, $"{total / 1024.0,14:N1} {total / (double)Math.Max(1, streams),14:N0} {count,10:N0}  {type}"));
        }

        return builder.ToString();
    }

    private static async Task<(string Tool, string File, string Summary)?> PerfAsync(SuiteOptions options, int pid, string file)
    {
        var seconds = options.ProfileSeconds.ToString(CultureInfo.InvariantCulture);
        var (code, output) = await Child.RunAsync(Perf,
            ["record", "-F", "499", "-g", "-p", pid.ToString(CultureInfo.InvariantCulture), "-o", file, "--", "sleep", seconds],
            TimeSpan.FromSeconds(options.ProfileSeconds + 60));
        if (code != 0 || !File.Exists(file))
        {
            return ("perf", file, $"perf record failed ({code}): {output.Trim()}");
        }

        var (_, byModule) = await Child.RunAsync(Perf,
            ["report", "-i", file, "--stdio", "--no-children", "-g", "none", "--sort", "dso", "--percent-limit", "1"], TimeSpan.FromSeconds(120));
        var (_, bySymbol) = await Child.RunAsync(Perf,
            ["report", "-i", file, "--stdio", "--no-children", "-g", "none", "--sort", "dso,sym", "--percent-limit", "0.7"], TimeSpan.FromSeconds(120));
        return ("perf", file, "CPU samples by module:\n" + Table(byModule, 20) + "\n\nCPU samples by symbol (≥ 0.7 %):\n" + Table(bySymbol, 30));
    }

    private static async Task<(string Tool, string File, string Summary)?> DotnetTraceAsync(SuiteOptions options, int pid, string file)
    {
        var trace = Path.Combine(options.Tools, "dotnet-trace");
        if (!File.Exists(trace))
        {
            Console.Error.WriteLine($"suite: neither {Perf} nor {trace}; run bench/run.sh --profile (it installs them).");
            return null;
        }

        var duration = TimeSpan.FromSeconds(options.ProfileSeconds).ToString(@"hh\:mm\:ss", CultureInfo.InvariantCulture);
        var (code, output) = await Child.RunAsync(trace,
            ["collect", "-p", pid.ToString(CultureInfo.InvariantCulture), "--profile", "dotnet-sampled-thread-time", "--duration", duration, "-o", file],
            TimeSpan.FromSeconds(options.ProfileSeconds + 60));
        if (code != 0 || !File.Exists(file))
        {
            return ("dotnet-trace", file, $"dotnet-trace collect failed ({code}): {output.Trim()}");
        }

        var (_, inclusive) = await Child.RunAsync(trace, ["report", file, "topN", "-n", "25", "--inclusive"], TimeSpan.FromSeconds(120));
        return ("dotnet-trace", file, "Thread time, inclusive (waiting threads included):\n" + inclusive.Trim());
    }

    private static async Task<string?> CountersAsync(SuiteOptions options, int pid, string file)
    {
        var counters = Path.Combine(options.Tools, "dotnet-counters");
        if (!File.Exists(counters))
        {
            return null;
        }

        var seconds = (int)Math.Max(2, Math.Min(options.ProfileSeconds, 10));
        var (code, output) = await Child.RunAsync(counters,
            ["collect", "-p", pid.ToString(CultureInfo.InvariantCulture), "--counters", "System.Runtime", "--format", "csv", "--refresh-interval", "1",
             "--duration", TimeSpan.FromSeconds(seconds).ToString(@"hh\:mm\:ss", CultureInfo.InvariantCulture), "-o", file],
            TimeSpan.FromSeconds(seconds + 60));
        if (code != 0 || !File.Exists(file))
        {
            return $"dotnet-counters failed ({code}): {output.Trim()}";
        }

        // The last value of each memory counter.
        var last = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in await File.ReadAllLinesAsync(file))
        {
            var parts = line.Split(',');
            if (parts.Length >= 5 && (parts[2].Contains("heap.size", StringComparison.Ordinal)
                || parts[2].Contains("working_set", StringComparison.Ordinal)
                || parts[2].Contains("memory.committed", StringComparison.Ordinal)
                || parts[2].Contains("total_allocated", StringComparison.Ordinal)))
            {
                last[parts[2].Trim('"') + (parts[3].Length > 2 ? " " + parts[3].Trim('"') : "")] = parts[^1];
            }
        }

        return string.Join("\n", last.Select(p => $"{p.Key} = {p.Value}"));
    }

    /// <summary>The rows of a gcdump report: "SIZE COUNT TYPE [module]" with thousands separators.</summary>
    private static IEnumerable<(long Total, long Count, string Type)> HeapRows(string report)
    {
        var c = CultureInfo.InvariantCulture;
        foreach (var line in report.Split('\n'))
        {
            var parts = line.Trim().Split(' ', 3, StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 3
                && long.TryParse(parts[0].Replace(",", "", StringComparison.Ordinal), c, out var size)
                && long.TryParse(parts[1].Replace(",", "", StringComparison.Ordinal), c, out var count))
            {
                var type = parts[2].Trim();
                var module = type.LastIndexOf(" [", StringComparison.Ordinal);
                yield return (size * count, count, module > 0 ? type[..module] : type);
            }
        }
    }

    /// <summary>perf report's table without its comment header, at most <paramref name="rows"/> rows.</summary>
    private static string Table(string report, int rows) =>
        string.Join('\n', report.Split('\n').Where(l => l.Length > 0 && !l.StartsWith('#')).Take(rows).Select(l => l.TrimEnd()));
}
