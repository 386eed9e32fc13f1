using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

namespace LoadTool.Suite;

/// <summary>What the machine is, read from /proc, /etc/os-release and the tools themselves.</summary>
public static class Machine
{
    public static MachineInfo Collect(SuiteOptions options)
    {
        var (commit, dirty) = Git(options.Repo);
        return new MachineInfo(
            Environment.ProcessorCount,
            FirstValue("/proc/cpuinfo", "model name") ?? "unknown",
            (long.TryParse(FirstValue("/proc/meminfo", "MemTotal")?.Split(' ')[0], CultureInfo.InvariantCulture, out var kib) ? kib : 0) * 1024,
            Read("/proc/sys/kernel/osrelease") ?? RuntimeInformation.OSDescription,
            OsName(),
            RuntimeInformation.FrameworkDescription,
            Run(options.Nginx, "-v")?.Replace("nginx version: ", "", StringComparison.Ordinal) ?? "not installed",
            Run("dpkg-query", "-W", "-f=${Version}", "libnginx-mod-nchan") ?? "unknown",
            TargetFactory.OpenFilesLimit(),
            commit,
            dirty);
    }

    private static (string Commit, bool Dirty) Git(string repo)
    {
        var commit = Run("git", "-C", repo, "rev-parse", "--short", "HEAD") ?? "unknown";
        var status = Run("git", "-C", repo, "status", "--porcelain", "--untracked-files=no");
        return (commit, !string.IsNullOrWhiteSpace(status));
    }

    private static string OsName()
    {
        foreach (var line in File.Exists("/etc/os-release") ? File.ReadLines("/etc/os-release") : [])
        {
            if (line.StartsWith("PRETTY_NAME=", StringComparison.Ordinal))
            {
                return line["PRETTY_NAME=".Length..].Trim('"');
            }
        }

        return RuntimeInformation.OSDescription;
    }

    private static string? FirstValue(string file, string key)
    {
        if (!File.Exists(file))
        {
            return null;
        }

        foreach (var line in File.ReadLines(file))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0 && line[..colon].Trim() == key)
            {
                return line[(colon + 1)..].Trim();
            }
        }

        return null;
    }

    private static string? Read(string file) => File.Exists(file) ? File.ReadAllText(file).Trim() : null;

    private static string? Run(string file, params string[] arguments)
    {
        try
        {
            var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var argument in arguments)
            {
                info.ArgumentList.Add(argument);
            }

            using var process = Process.Start(info);
            if (process is null)
            {
                return null;
            }

            var output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
            process.WaitForExit(10_000);
            return process.ExitCode == 0 ? output.Trim() : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }
}
