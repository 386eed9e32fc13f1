using System.Globalization;

namespace AppHost.Tests.Infrastructure;

/// <summary>What Linux says about a process: its real environment and its children.</summary>
internal static class ProcFs
{
    public static Dictionary<string, string> ReadEnvironment(int processId)
    {
        var raw = File.ReadAllText($"/proc/{processId}/environ");
        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in raw.Split('\0', StringSplitOptions.RemoveEmptyEntries))
        {
            var separator = entry.IndexOf('=', StringComparison.Ordinal);
            if (separator > 0)
            {
                environment[entry[..separator]] = entry[(separator + 1)..];
            }
        }

        return environment;
    }

    public static bool IsAlive(int processId)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{processId}/stat");
            // The state follows the parenthesised command name; Z is a zombie (already dead).
            var state = stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[0];
            return state != "Z" && state != "X";
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>Every process whose ancestry leads to <paramref name="rootId"/>.</summary>
    public static HashSet<int> Descendants(int rootId)
    {
        var parents = new Dictionary<int, int>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out var processId))
            {
                continue;
            }

            try
            {
                var stat = File.ReadAllText(Path.Combine(directory, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                parents[processId] = int.Parse(fields[1], CultureInfo.InvariantCulture);
            }
            catch (IOException)
            {
            }
        }

        var found = new HashSet<int>();
        var frontier = new Queue<int>([rootId]);
        while (frontier.TryDequeue(out var parent))
        {
            foreach (var (child, childParent) in parents)
            {
                if (childParent == parent && found.Add(child))
                {
                    frontier.Enqueue(child);
                }
            }
        }

        return found;
    }

    /// <summary>Waits until none of <paramref name="processIds"/> is alive, or fails naming the survivors.</summary>
    public static async Task WaitUntilGoneAsync(IEnumerable<int> processIds, TimeSpan timeout)
    {
        var watched = processIds.ToList();
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (watched.Any(IsAlive) && waited.Elapsed < timeout)
        {
            await Task.Delay(250);
        }

        var alive = watched.Where(IsAlive).ToList();
        Assert.True(alive.Count == 0, $"still running after {timeout.TotalSeconds:F0} s: {string.Join(", ", alive.Select(Describe))}");
    }

    public static string Describe(int processId)
    {
        try
        {
            return $"{processId} ({File.ReadAllText($"/proc/{processId}/cmdline").Replace('\0', ' ').Trim()})";
        }
        catch (IOException)
        {
            return processId.ToString(CultureInfo.InvariantCulture);
        }
    }

    /// <summary>Every live process whose environment has <paramref name="name"/>=<paramref name="value"/> (e.g. one run's own HOME).</summary>
    public static List<int> WithEnvironment(string name, string value)
    {
        var found = new List<int>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out var processId)
                && processId != Environment.ProcessId && IsAlive(processId))
            {
                try
                {
                    if (ReadEnvironment(processId).TryGetValue(name, out var actual) && actual == value)
                    {
                        found.Add(processId);
                    }
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                }
            }
        }

        return found;
    }
}
