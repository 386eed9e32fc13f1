using System.Globalization;
using System.Text;

namespace LoadTool;

/// <summary>
/// Profiles of one .NET process under load, in a pass of their own after the measured scenarios: CPU with
/// <c>perf record -g</c> (real CPU samples, kernel and native code included; the services run with
/// DOTNET_PerfMapEnabled=1 in this pass so JIT-compiled frames have names), by module and by symbol; memory with
/// <c>dotnet-gcdump</c> (what the heap holds, per open stream), with RSS before and after the full GC the dump forces. The .NET tools come from
/// bench/.tools and perf from Debian's linux-perf (bench/run.sh --profile installs them).
/// </summary>
public static class Profiler
{
    private const string Perf = "/usr/bin/perf";
    private static readonly CultureInfo s_c = CultureInfo.InvariantCulture;

    public static bool HasPerf => File.Exists(Perf);

    public static async Task<ProfileResult?> CollectAsync(SuiteOptions options, string target, string processName, int pid, string label)
    {
        var stem = Path.Combine(Directory.CreateDirectory(Path.Combine(options.ResultsDir, "profiles")).FullName, $"{target}-{label}-{processName}");
        if (!HasPerf)
        {
            Console.Error.WriteLine($"suite: no {Perf}; run bench/run.sh --profile (it installs linux-perf).");
            return null;
        }


        var (code, output) = await Registry.RunAsync(Perf, ["record", "-F", "499", "-g", "-p", pid.ToString(s_c), "-o", stem + ".perf.data", "--", "sleep", options.ProfileSeconds.ToString(s_c)],
            TimeSpan.FromSeconds(options.ProfileSeconds + 60));
        string Report(string sort, string limit) =>
            string.Join('\n', Registry.RunAsync(Perf, ["report", "-i", stem + ".perf.data", "--stdio", "--no-children", "-g", "none", "--sort", sort, "--percent-limit", limit], TimeSpan.FromSeconds(120))
                .Result.Output.Split('\n').Where(l => l.Length > 0 && !l.StartsWith('#')).Take(sort == "dso" ? 20 : 30).Select(l => l.TrimEnd()));
        var summary = code != 0 ? $"perf record failed ({code}): {output.Trim()}"
            : "CPU samples by module:\n" + Report("dso", "1") + "\n\nCPU samples by symbol (≥ 0.7 %):\n" + Report("dso,sym", "0.7");
        return new ProfileResult(target, processName, label, "perf", Path.GetRelativePath(options.Repo, stem + ".perf.data"), summary);
    }

    /// <summary>
    /// Moves the process's perf map out of /tmp into the run's profiles (perf reads it only as /tmp/perf-PID.map, so a
    /// raw profile read later needs it copied back); the runtime's perfinfo file goes. Null when there was none.
    /// </summary>
    public static string? KeepSymbolMap(SuiteOptions options, int pid)
    {
        File.Delete($"/tmp/perfinfo-{pid}.map");
        var map = $"/tmp/perf-{pid}.map";
        if (!File.Exists(map)) return null;
        var kept = Path.Combine(options.ResultsDir, "profiles", $"perf-{pid}.map");
        File.Move(map, kept, overwrite: true);
        return Path.GetRelativePath(options.Repo, kept);
    }

    /// <summary>dotnet-gcdump of the process: largest types, per stream, and what a full GC gives back.</summary>
    public static async Task<string?> HeapAsync(SuiteOptions options, string target, string processName, int pid, string label, int streams)
    {
        var gcdump = Path.Combine(options.Repo, "bench", ".tools", "dotnet-gcdump");
        var file = Path.Combine(options.ResultsDir, "profiles", $"{target}-{label}-{processName}.gcdump");
        if (!File.Exists(gcdump)) return null;
        var rssBefore = ProcStats.ResidentBytes(pid);
        var (code, output) = await Registry.RunAsync(gcdump, ["collect", "-p", pid.ToString(s_c), "-o", file], TimeSpan.FromSeconds(120));
        await Task.Delay(1000);
        var rssAfter = ProcStats.ResidentBytes(pid);
        if (code != 0 || !File.Exists(file)) return $"dotnet-gcdump collect failed ({code}): {output.Trim()}";

        var report = (await Registry.RunAsync(gcdump, ["report", file], TimeSpan.FromSeconds(120))).Output;
        var heap = Number(report.Split('\n').FirstOrDefault(l => l.Contains("GC Heap bytes", StringComparison.Ordinal))?.Trim().Split(' ')[0]);
        var text = new StringBuilder(string.Create(s_c, $"""
            {streams:N0} streams open. Live GC heap {heap / 1048576.0:F1} MiB ({heap / 1024.0 / Math.Max(1, streams):F1} KiB per stream, fixed costs included); RSS {rssBefore / 1048576.0:F1} MiB before the dump's full GC, {rssAfter / 1048576.0:F1} MiB after.
            Largest types by total size (dotnet-gcdump report lists size per object and count; total = size × count):
                 total KiB   per stream B      count  type

            """));
        // Its rows: "SIZE COUNT TYPE [module]", with thousands separators.
        var rows = from line in report.Split('\n')
                   let parts = line.Trim().Split(' ', 3, StringSplitOptions.RemoveEmptyEntries)
                   where parts.Length == 3 && Number(parts[0]) > 0 && Number(parts[1]) > 0
                   let type = parts[2].Trim()
                   select (Total: Number(parts[0]) * Number(parts[1]), Count: Number(parts[1]), Type: type.LastIndexOf(" [", StringComparison.Ordinal) is > 0 and var m ? type[..m] : type);
        foreach (var (total, count, type) in rows.OrderByDescending(r => r.Total).Take(20))
        {
            text.AppendLine(string.Create(s_c, $"{total / 1024.0,14:N1} {total / (double)Math.Max(1, streams),14:N0} {count,10:N0}  {type}"));
        }

        return text.ToString();
    }

    private static long Number(string? text) => long.TryParse(text?.Replace(",", "", StringComparison.Ordinal), s_c, out var value) ? value : 0;
}
