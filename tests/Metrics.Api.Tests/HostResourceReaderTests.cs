using Metrics.Api.Sampling;
using Microsoft.Extensions.Time.Testing;

namespace Metrics.Api.Tests;

public sealed class HostResourceReaderTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("metrics-api-host-").FullName;
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public void Inside_a_cgroup_v2_container_reports_the_container_limits_and_usage()
    {
        var cgroup = Write("cgroup/cpu.max", "150000 100000");
        Write("cgroup/memory.max", "536870912");
        Write("cgroup/memory.current", "134217728");
        Write("cgroup/cpu.stat", "usage_usec 1000000\nuser_usec 800000\nsystem_usec 200000");
        var reader = new HostResourceReader(cgroup, Path.Combine(_root, "proc"), processorCount: 8, _time);

        var first = reader.Read();
        Write("cgroup/cpu.stat", "usage_usec 1750000\nuser_usec 1400000\nsystem_usec 350000");
        _time.Advance(TimeSpan.FromSeconds(1));
        var second = reader.Read();

        Assert.Equal(new HostMetrics("cgroup", null, 1.5, 134217728, 536870912), first);
        // 0.75 s of CPU in 1 s on a 1.5-core quota.
        Assert.Equal(new HostMetrics("cgroup", 50, 1.5, 134217728, 536870912), second);
    }

    [Fact]
    public void A_cgroup_without_limits_falls_back_to_processor_count_and_host_memory()
    {
        var cgroup = Write("cgroup/cpu.max", "max 100000");
        Write("cgroup/memory.max", "max");
        Write("cgroup/memory.current", "1000");
        Write("cgroup/cpu.stat", "usage_usec 5");
        var proc = Write("proc/meminfo", "MemTotal:        2048 kB\nMemFree:          512 kB\nMemAvailable:    1024 kB");

        var host = new HostResourceReader(cgroup, proc, processorCount: 4, _time).Read();

        Assert.Equal(new HostMetrics("cgroup", null, 4, 1000, 2048 * 1024), host);
    }

    [Fact]
    public void Without_cgroup_v2_reads_the_host_from_proc()
    {
        var proc = Write("proc/stat", "cpu  100 0 100 700 100 0 0 0 0 0\ncpu0 50 0 50 350 50 0 0 0 0 0");
        Write("proc/meminfo", "MemTotal:        4096 kB\nMemFree:         1024 kB\nMemAvailable:    3072 kB");
        var reader = new HostResourceReader(Path.Combine(_root, "no-cgroup"), proc, processorCount: 2, _time);

        var first = reader.Read();
        // +300 busy, +100 idle, +0 iowait.
        Write("proc/stat", "cpu  250 0 250 800 100 0 0 0 0 0");
        var second = reader.Read();

        Assert.Equal(new HostMetrics("proc", null, 2, 1024 * 1024, 4096 * 1024), first);
        Assert.Equal(75, second.CpuPercent);
    }

    [Fact]
    public void Unreadable_or_garbled_files_give_nulls_not_exceptions()
    {
        var cgroup = Write("cgroup/cpu.max", "garbage");
        Write("cgroup/memory.current", "not a number");
        var proc = Write("proc/stat", "intr 1 2 3");

        var host = new HostResourceReader(cgroup, proc, processorCount: 2, _time).Read();

        Assert.Equal(new HostMetrics("proc", null, 2, null, null), host);
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    /// <summary>Writes a file under the temp root and returns its directory.</summary>
    private string Write(string relativePath, string content)
    {
        var path = Path.Combine(_root, relativePath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
        return Path.GetDirectoryName(path)!;
    }
}
