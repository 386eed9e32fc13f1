using System.Globalization;

namespace LoadTool;

/// <summary>
/// One reading of processes (with their descendants) from /proc: user + system CPU seconds, VmRSS and PSS summed (PSS
/// splits shared pages), how many were read, and the whole machine's busy CPU seconds (/proc/stat: other processes' load).
/// </summary>
public sealed record ProcSample(DateTime At, double CpuSeconds, long RssBytes, long PssBytes, int Processes, double MachineBusySeconds = 0)
{
    /// <summary>The same reading for each server process of a target that has several (each with its descendants), read right after the sum.</summary>
    public IReadOnlyList<ProcPart>? Parts { get; init; }
}

/// <summary>One server process's share of a <see cref="ProcSample"/>.</summary>
public sealed record ProcPart(string Name, double CpuSeconds, long RssBytes);

/// <summary>Reads CPU time and memory of given processes and their descendants from /proc (Linux).</summary>
public static class ProcStats
{
    // USER_HZ: the unit of utime/stime in /proc/PID/stat; 100 on every Linux this runs on (sysconf(_SC_CLK_TCK)).
    private const double TicksPerSecond = 100;
    private static readonly int[] s_busyFields = [1, 2, 3, 6, 7, 8];

    public static ProcSample Sample(IEnumerable<int> roots)
    {
        double cpu = 0;
        long rss = 0, pss = 0;
        var count = 0;
        foreach (var pid in WithDescendants(roots))
        {
            try
            {
                // Fields after the parenthesised command name: state is field 3, utime 14, stime 15.
                var stat = File.ReadAllText($"/proc/{pid}/stat");
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                cpu += (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / TicksPerSecond;
                (rss, pss, count) = (rss + ResidentBytes(pid), pss + (Kib($"/proc/{pid}/smaps_rollup", "Pss:") * 1024), count + 1);
            }
            catch (IOException)
            {
                // Exited between listing and reading.
            }
        }

        // Machine busy time: user + nice + system + irq + softirq + steal of the "cpu" line of /proc/stat.
        var f = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return new ProcSample(DateTime.UtcNow, cpu, rss, pss, count, s_busyFields.Sum(i => long.Parse(f[i], CultureInfo.InvariantCulture)) / TicksPerSecond);
    }

    public static long ResidentBytes(int pid) => Kib($"/proc/{pid}/status", "VmRSS:") * 1024;
    public static bool IsAlive(int pid) => Directory.Exists($"/proc/{pid}");

    /// <summary>The processes and every descendant (nginx workers, for example), from /proc/PID/task/TID/children.</summary>
    public static IReadOnlyList<int> WithDescendants(IEnumerable<int> roots)
    {
        var (result, queue, seen) = (new List<int>(), new Queue<int>(roots), new HashSet<int>());
        while (queue.TryDequeue(out var pid))
        {
            if (!seen.Add(pid) || !IsAlive(pid)) continue;
            result.Add(pid);
            try
            {
                foreach (var task in Directory.EnumerateDirectories($"/proc/{pid}/task"))
                {
                    foreach (var child in File.ReadAllText(Path.Combine(task, "children")).Split(' ', StringSplitOptions.RemoveEmptyEntries))
                    {
                        queue.Enqueue(int.Parse(child, CultureInfo.InvariantCulture));
                    }
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
            }
        }

        return result;
    }

    private static long Kib(string path, string key)
    {
        try
        {
            return File.ReadLines(path).FirstOrDefault(l => l.StartsWith(key, StringComparison.Ordinal)) is { } line
                ? long.Parse(line[key.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) : 0;
        }
        catch (IOException)
        {
            return 0;
        }
    }
}
