using System.Diagnostics;
using Xunit.Abstractions;

namespace Dashboard.Web.Tests;

/// <summary>
/// The ClientApp's own unit tests (vitest: useEventStream over EventSource with tickets, the store, the
/// views) run as part of `dotnet test`, so the one test command covers the dashboard end to end.
/// The build installed node_modules (npm ci) before this runs.
/// </summary>
public sealed class ClientAppTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Vitest_Passes()
    {
        var clientApp = FindClientApp();
        Assert.True(Directory.Exists(Path.Combine(clientApp, "node_modules", "vitest")),
            $"{clientApp}/node_modules has no vitest: build Dashboard.Web first (its build runs npm ci).");

        var start = new ProcessStartInfo(OperatingSystem.IsWindows() ? "npx.cmd" : "npx")
        {
            WorkingDirectory = clientApp,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { "--no-install", "vitest", "run", "--reporter=verbose", "--color=false" })
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["CI"] = "true";
        start.Environment["NO_COLOR"] = "1";

        using var process = Process.Start(start) ?? throw new InvalidOperationException("npx did not start.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        var text = await stdout + await stderr;
        output.WriteLine(text);
        Assert.True(process.ExitCode == 0, $"vitest exited with {process.ExitCode}:\n{text}");
        Assert.Matches(@"Tests\s+\d+ passed", text);
    }

    /// <summary>Dashboard.Web/ClientApp, found by walking up from the test binaries to the repository root.</summary>
    private static string FindClientApp()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            var candidate = Path.Combine(directory.FullName, "Dashboard.Web", "ClientApp");
            if (File.Exists(Path.Combine(candidate, "package.json")))
            {
                return candidate;
            }
        }

        throw new DirectoryNotFoundException($"No Dashboard.Web/ClientApp above {AppContext.BaseDirectory}.");
    }
}
