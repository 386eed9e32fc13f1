using System.Diagnostics;
using System.Globalization;

namespace LoadTool.Suite;

/// <summary>
/// Every process the suite starts, written to a pid file as "PID STARTTIME" lines (STARTTIME: field 22 of
/// /proc/PID/stat) so that bench/run.sh can kill exactly those, and no recycled PID, if the suite itself dies.
/// </summary>
public sealed class ProcessRegistry(string pidFile)
{
    private readonly List<Process> _processes = [];

    public void Track(Process process)
    {
        lock (_processes)
        {
            _processes.Add(process);
        }

        Record(process.Id);
    }

    /// <summary>Records processes the suite did not start itself but must clean up (nginx workers, forked by the master).</summary>
    public void Record(int pid)
    {
        if (StartTime(pid) is { } start)
        {
            lock (_processes)
            {
                File.AppendAllText(pidFile, $"{pid} {start}\n");
            }
        }
    }

    public static string? StartTime(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return fields[19]; // field 22 overall: starttime in clock ticks since boot
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>Kills <paramref name="process"/> and its descendants (Process.Kill(true) walks /proc on Linux).</summary>
    public static async Task StopAsync(Process process, TimeSpan wait)
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }

            await process.WaitForExitAsync().WaitAsync(wait);
        }
        catch (InvalidOperationException)
        {
            // Never started or already reaped.
        }
        catch (TimeoutException)
        {
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"suite: process {process.Id} did not exit within {wait.TotalSeconds} s"));
        }
    }

    /// <summary>Stops every tracked process still running (the suite's last step, and its crash path).</summary>
    public async Task StopAllAsync()
    {
        List<Process> all;
        lock (_processes)
        {
            all = [.. _processes];
            _processes.Clear();
        }

        foreach (var process in Enumerable.Reverse(all))
        {
            await StopAsync(process, TimeSpan.FromSeconds(10));
            process.Dispose();
        }
    }
}
