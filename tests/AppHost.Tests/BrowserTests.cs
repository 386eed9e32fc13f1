using System.Diagnostics;
using System.Text.Json;
using AppHost.Tests.Infrastructure;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;

namespace AppHost.Tests;

/// <summary>
/// The dashboard in a real browser (Debian's Chromium driven by playwright-core, e2e/run.mjs)
/// against the whole system started by the testing builder, through the edge over HTTPS.
/// </summary>
[Collection(WholeSystemGroup.Name)]
public sealed class BrowserTests
{
    private static readonly TimeSpan ScenarioTimeout = TimeSpan.FromMinutes(4);

    [Fact]
    public async Task Signed_in_dashboards_go_live_and_ten_of_them_share_one_http2_connection()
    {
        await using var system = await TestSystem.StartAsync();
        var edge = system.App.GetEndpoint("edge-proxy", "https");
        var screenshot = Path.Combine(Path.GetTempPath(), $"dashboard-{Guid.NewGuid():N}.png");

        try
        {
            var live = await BrowserScenario.RunAsync(edge, "live", "e2e-live", ["--screenshot", screenshot]);
            Assert.True(live.Passed, live.Describe());
            Assert.True(new FileInfo(screenshot).Length > 10_000, "the screenshot should show a rendered dashboard");

            var tenTabs = await BrowserScenario.RunAsync(edge, "ten-tabs", "e2e-tabs", []);
            Assert.True(tenTabs.Passed, tenTabs.Describe());
        }
        finally
        {
            File.Delete(screenshot);
        }
    }

    [Fact]
    public async Task The_page_recovers_by_itself_when_Metrics_Api_stops_and_starts_again_with_no_lost_event()
    {
        await using var system = await TestSystem.StartAsync();
        var app = system.App;
        var edge = app.GetEndpoint("edge-proxy", "https");

        var result = await BrowserScenario.RunAsync(edge, "recover", "e2e-recover", [], async () =>
        {
            var stop = await app.ResourceCommands.ExecuteCommandAsync("metrics-api", KnownResourceCommands.StopCommand);
            Assert.True(stop.Success, stop.Message);
            // Long enough for the page to notice and back off at least once.
            await Task.Delay(TimeSpan.FromSeconds(4));
            var start = await app.ResourceCommands.ExecuteCommandAsync("metrics-api", KnownResourceCommands.StartCommand);
            Assert.True(start.Success, start.Message);
            await app.ResourceNotifications.WaitForResourceHealthyAsync("metrics-api").WaitAsync(TestSystem.StartTimeout);
        });

        Assert.True(result.Passed, result.Describe());
    }

    private sealed record BrowserScenario(int ExitCode, string? Result, string Output)
    {
        private static readonly string RepositoryRoot = Path.GetDirectoryName(Projects.AppHost.ProjectPath)!;

        public bool Passed => ExitCode == 0 && Result is not null && JsonDocument.Parse(Result).RootElement.GetProperty("ok").GetBoolean();

        public string Describe() => $"exit code {ExitCode}; result {Result ?? "(none)"}; output:\n{Output}";

        public static async Task<BrowserScenario> RunAsync(Uri edge, string scenario, string user, string[] extraArgs, Func<Task>? restart = null)
        {
            Chromium.EnsureInstalled();
            var script = Path.Combine(RepositoryRoot, "e2e", "run.mjs");
            var startInfo = new ProcessStartInfo("node", [script, "--base-url", edge.ToString().TrimEnd('/'), "--scenario", scenario, "--user", user, .. extraArgs])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                RedirectStandardInput = true,
                UseShellExecute = false,
                WorkingDirectory = RepositoryRoot,
            };
            using var node = Process.Start(startInfo)!;
            var output = new System.Collections.Concurrent.ConcurrentQueue<string>();
            var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            string? lastStdoutLine = null;
            node.OutputDataReceived += (_, e) =>
            {
                if (e.Data is null)
                {
                    return;
                }

                output.Enqueue(e.Data);
                lastStdoutLine = e.Data;
                if (e.Data.Contains("READY_FOR_RESTART", StringComparison.Ordinal))
                {
                    ready.TrySetResult();
                }
            };
            node.ErrorDataReceived += (_, e) =>
            {
                if (e.Data is not null)
                {
                    output.Enqueue(e.Data);
                }
            };
            node.BeginOutputReadLine();
            node.BeginErrorReadLine();

            try
            {
                if (restart is not null)
                {
                    await Task.WhenAny(ready.Task, node.WaitForExitAsync()).WaitAsync(ScenarioTimeout);
                    if (ready.Task.IsCompleted)
                    {
                        await restart();
                        await node.StandardInput.WriteLineAsync("restarted");
                        await node.StandardInput.FlushAsync();
                    }
                }

                await node.WaitForExitAsync().WaitAsync(ScenarioTimeout);
            }
            finally
            {
                if (!node.HasExited)
                {
                    node.Kill(entireProcessTree: true);
                }
            }

            await node.WaitForExitAsync();
            var result = lastStdoutLine is { Length: > 0 } line && line.TrimStart().StartsWith('{') ? line : null;
            return new BrowserScenario(node.ExitCode, result, string.Join('\n', output.TakeLast(60)));
        }
    }

    /// <summary>Debian's Chromium: installed on first use where this user may (CI runs as root), never downloaded by npm.</summary>
    private static class Chromium
    {
        private const string Path = "/usr/bin/chromium";
        private static readonly Lock InstallLock = new();

        public static void EnsureInstalled()
        {
            lock (InstallLock)
            {
                if (File.Exists(Path))
                {
                    return;
                }

                if (Environment.UserName != "root" || !File.Exists("/usr/bin/apt-get"))
                {
                    Assert.Fail($"The browser tests need Debian's Chromium at {Path}: run `sudo apt-get install -y chromium`.");
                }

                Run("apt-get", "update");
                Run("apt-get", "install", "-y", "--no-install-recommends", "chromium");
            }
        }

        private static void Run(string file, params string[] args)
        {
            var startInfo = new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            startInfo.Environment["DEBIAN_FRONTEND"] = "noninteractive";
            using var process = Process.Start(startInfo)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEnd();
            process.WaitForExit();
            Assert.True(process.ExitCode == 0, $"{file} {string.Join(' ', args)} failed: {stderr}{stdout.Result}");
        }
    }
}
