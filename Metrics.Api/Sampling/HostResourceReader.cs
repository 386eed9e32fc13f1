using System.Globalization;

namespace Metrics.Api.Sampling;

/// <summary>
/// Reads the CPU and memory of the container (cgroup v2) or, outside one, of the host (/proc).
/// CPU is a rate, so each read is compared with the previous one. Unreadable or odd files give
/// nulls, never exceptions: the sampler must keep going.
/// </summary>
public sealed class HostResourceReader
{
    private readonly string _cgroupRoot;
    private readonly string _procRoot;
    private readonly int _processorCount;
    private readonly TimeProvider _timeProvider;
    private (long UsageMicroseconds, long Timestamp)? _previousCgroupCpu;
    private (ulong Busy, ulong Total)? _previousProcCpu;

    public HostResourceReader(string cgroupRoot, string procRoot, int processorCount, TimeProvider timeProvider)
    {
        _cgroupRoot = cgroupRoot;
        _procRoot = procRoot;
        _processorCount = processorCount;
        _timeProvider = timeProvider;
    }

    public HostMetrics Read()
    {
        var cgroupUsage = ReadKeyedValue(Path.Combine(_cgroupRoot, "cpu.stat"), "usage_usec");
        var cgroupMemory = ReadNumber(Path.Combine(_cgroupRoot, "memory.current"));
        var inCgroup = cgroupUsage is not null || cgroupMemory is not null;

        var limitCores = ReadCpuLimit() ?? _processorCount;
        var cpuPercent = cgroupUsage is { } usage ? CgroupCpuPercent(usage, limitCores) : ProcCpuPercent();

        var (memTotal, memAvailable) = ReadMemInfo();
        var memoryLimit = ReadNumber(Path.Combine(_cgroupRoot, "memory.max")) ?? memTotal;
        var memoryUsed = cgroupMemory ?? (memTotal - memAvailable);

        return new HostMetrics(inCgroup ? "cgroup" : "proc", cpuPercent, limitCores, memoryUsed, memoryLimit);
    }

    private double? CgroupCpuPercent(long usageMicroseconds, double limitCores)
    {
        var now = _timeProvider.GetTimestamp();
        var previous = _previousCgroupCpu;
        _previousCgroupCpu = (usageMicroseconds, now);
        if (previous is not { } before)
        {
            return null;
        }

        var elapsedMicroseconds = _timeProvider.GetElapsedTime(before.Timestamp, now).TotalMicroseconds;
        return elapsedMicroseconds <= 0
            ? null
            : Percent((usageMicroseconds - before.UsageMicroseconds) / (elapsedMicroseconds * limitCores));
    }

    /// <summary>Busy share of all CPU time since the previous read, from the first line of /proc/stat.</summary>
    private double? ProcCpuPercent()
    {
        var line = ReadFirstLine(Path.Combine(_procRoot, "stat"));
        if (line is null || !line.StartsWith("cpu ", StringComparison.Ordinal))
        {
            return null;
        }

        // cpu  user nice system idle iowait irq softirq steal guest guest_nice (guest is inside user).
        var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length < 9)
        {
            return null;
        }

        ulong total = 0;
        var values = new ulong[8];
        for (var i = 0; i < values.Length; i++)
        {
            if (!ulong.TryParse(fields[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out values[i]))
            {
                return null;
            }

            total += values[i];
        }

        var idle = values[3] + values[4];
        var busy = total - idle;
        var previous = _previousProcCpu;
        _previousProcCpu = (busy, total);
        if (previous is not { } before || total <= before.Total || busy < before.Busy)
        {
            return null;
        }

        return Percent((double)(busy - before.Busy) / (total - before.Total));
    }

    /// <summary>cpu.max is "quota period" in microseconds, or "max period" for no limit.</summary>
    private double? ReadCpuLimit()
    {
        var line = ReadFirstLine(Path.Combine(_cgroupRoot, "cpu.max"));
        var parts = line?.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts is not { Length: 2 }
            || !long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var quota)
            || !long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var period)
            || quota <= 0 || period <= 0)
        {
            return null;
        }

        return (double)quota / period;
    }

    private (long? Total, long? Available) ReadMemInfo()
    {
        long? total = null;
        long? available = null;
        foreach (var line in ReadLines(Path.Combine(_procRoot, "meminfo")))
        {
            if (line.StartsWith("MemTotal:", StringComparison.Ordinal))
            {
                total = ParseKilobytes(line);
            }
            else if (line.StartsWith("MemAvailable:", StringComparison.Ordinal))
            {
                available = ParseKilobytes(line);
            }
        }

        return (total, available);
    }

    private static long? ParseKilobytes(string line)
    {
        // "MemTotal:       24576000 kB"
        var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return parts.Length >= 2 && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var kilobytes)
            ? kilobytes * 1024
            : null;
    }

    /// <summary>A file holding one number; "max" (no limit) and anything unparsable give null.</summary>
    private static long? ReadNumber(string path) =>
        long.TryParse(ReadFirstLine(path)?.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : null;

    /// <summary>A "key value" line of a flat-keyed file such as cpu.stat.</summary>
    private static long? ReadKeyedValue(string path, string key)
    {
        foreach (var line in ReadLines(path))
        {
            if (line.StartsWith(key, StringComparison.Ordinal) && line.Length > key.Length && line[key.Length] == ' '
                && long.TryParse(line.AsSpan(key.Length + 1).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var value))
            {
                return value;
            }
        }

        return null;
    }

    private static string? ReadFirstLine(string path)
    {
        foreach (var line in ReadLines(path))
        {
            return line;
        }

        return null;
    }

    private static string[] ReadLines(string path)
    {
        try
        {
            return File.ReadAllLines(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    private static double Percent(double ratio) => Math.Round(Math.Clamp(ratio, 0, 1) * 100, 2);
}
