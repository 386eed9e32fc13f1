using System.Diagnostics;
using System.Runtime.Versioning;
using Aspire.Hosting;
using Microsoft.Extensions.Configuration;

namespace AppHost.Tests;

/// <summary>Which Redis the AppHost starts, decided without starting anything (and without a container runtime).</summary>
public sealed class RedisHostChoiceTests
{
    [Fact]
    public void A_container_runtime_that_answers_wins_over_redis_server()
    {
        Assert.Equal(RedisHost.Container, RedisBackplane.Choose("podman", "/usr/bin/redis-server"));
        Assert.Equal(RedisHost.Executable, RedisBackplane.Choose(null, "/usr/bin/redis-server"));
    }

    [Fact]
    public void With_neither_the_error_names_every_way_out()
    {
        var error = Assert.Throws<DistributedApplicationException>(() => RedisBackplane.Choose(null, null));

        Assert.Contains("apt-get install redis-server", error.Message, StringComparison.Ordinal);
        Assert.Contains("container runtime", error.Message, StringComparison.Ordinal);
        Assert.Contains("--MetricsApi:Replicas=1", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_runtime_command_that_is_missing_or_fails_does_not_answer()
    {
        Assert.False(ContainerRuntime.Answers("no-such-container-runtime", TimeSpan.FromSeconds(5)));
        Assert.False(ContainerRuntime.Answers("false", TimeSpan.FromSeconds(5)));
        Assert.True(ContainerRuntime.Answers("true", TimeSpan.FromSeconds(5)));
    }

    [Fact]
    [SupportedOSPlatform("linux")]
    public void A_runtime_that_hangs_counts_as_absent_after_the_timeout_and_is_stopped()
    {
        var script = Path.Combine(Directory.CreateTempSubdirectory("hanging-runtime-").FullName, "hanging-runtime");
        File.WriteAllText(script, "#!/bin/sh\nexec sleep 60\n");
        File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserExecute);
        try
        {
            var asked = Stopwatch.StartNew();
            Assert.False(ContainerRuntime.Answers(script, TimeSpan.FromSeconds(1)));
            Assert.InRange(asked.Elapsed, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(10));
            Assert.DoesNotContain(Process.GetProcessesByName("sleep"), p => ProcFsCommandLine(p.Id) == "sleep 60" && IsChildOfThisTest(p.Id));
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(script)!, recursive: true);
        }
    }

    [Fact]
    public void The_configured_runtime_is_the_only_one_asked()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["ASPIRE_CONTAINER_RUNTIME"] = "true" })
            .Build();

        Assert.Equal("true", ContainerRuntime.FindHealthy(configuration, TimeSpan.FromSeconds(5)));
    }

    private static string ProcFsCommandLine(int processId)
    {
        try
        {
            return File.ReadAllText($"/proc/{processId}/cmdline").Replace('\0', ' ').Trim();
        }
        catch (IOException)
        {
            return "";
        }
    }

    // A killed child of this process would be reparented; one still alive and ours has this test as its parent.
    private static bool IsChildOfThisTest(int processId)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{processId}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1] == Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return false;
        }
    }
}
