using System.Net;
using System.Net.Sockets;

namespace AppHost.Tests;

/// <summary>The AppHost as a developer runs it: its own process, signals, exit codes.</summary>
[Collection(WholeSystemGroup.Name)]
public sealed class AppHostProcessTests
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(2);

    [Theory]
    [InlineData("TERM")]
    [InlineData("INT")]
    public async Task A_stop_signal_stops_every_child_process_and_exits_zero(string signal)
    {
        await using var appHost = AppHostProcess.Start("--AppHost:RandomizePorts=true");
        await appHost.WaitUntilStartedAsync(StartTimeout);
        var children = ProcFs.Descendants(appHost.Id);
        Assert.True(children.Count >= 3, $"expected the three services among the AppHost's children, found {children.Count}");

        appHost.Signal(signal);
        var exitCode = await appHost.WaitForExitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(0, exitCode);
        Assert.DoesNotContain(children, ProcFs.IsAlive);
        Assert.Contains("Stopped.", appHost.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_resource_that_fails_at_start_stops_the_apphost_with_a_non_zero_exit_naming_it()
    {
        // The most common start failure: the edge's fixed public port is taken.
        using var squatter = new TcpListener(IPAddress.Loopback, 0);
        squatter.Start();
        var takenPort = ((IPEndPoint)squatter.LocalEndpoint).Port;

        await using var appHost = AppHostProcess.Start($"--EdgeHttpsPort={takenPort}");
        var exitCode = await appHost.WaitForExitAsync(StartTimeout);
        var children = ProcFs.Descendants(appHost.Id);

        Assert.NotEqual(0, exitCode);
        Assert.Contains("Resource 'edge-proxy'", appHost.Output, StringComparison.Ordinal);
        Assert.Contains("exited during start", appHost.Output, StringComparison.Ordinal);
        Assert.Contains(takenPort.ToString(System.Globalization.CultureInfo.InvariantCulture), appHost.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(children, ProcFs.IsAlive);
    }
}
