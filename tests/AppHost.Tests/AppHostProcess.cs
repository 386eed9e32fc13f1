using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;

namespace AppHost.Tests;

/// <summary>The real AppHost started the way a developer starts it, as its own process.</summary>
internal sealed class AppHostProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private AppHostProcess(Process process) => _process = process;

    public int Id => _process.Id;

    public string Output => string.Join('\n', _output);

    public static AppHostProcess Start(params string[] args)
    {
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        var startInfo = new ProcessStartInfo(dotnet, [Projects.AppHost.TargetPath, .. args])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(Projects.AppHost.ProjectPath)!,
        };
        // What the AppHost's launch profile gives it under `dotnet run`.
        startInfo.Environment["DOTNET_ENVIRONMENT"] = "Development";
        startInfo.Environment["ASPNETCORE_ENVIRONMENT"] = "Development";

        var process = new Process { StartInfo = startInfo };
        var appHost = new AppHostProcess(process);
        process.OutputDataReceived += (_, e) => appHost.OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => appHost.OnLine(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return appHost;
    }

    public Task WaitUntilStartedAsync(TimeSpan timeout) => _started.Task.WaitAsync(timeout);

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        await _process.WaitForExitAsync().WaitAsync(timeout);
        return _process.ExitCode;
    }

    public void Signal(string signal)
    {
        using var kill = Process.Start("kill", [$"-{signal}", Id.ToString(CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            var descendants = ProcFs.Descendants(_process.Id);
            _process.Kill(entireProcessTree: true);
            foreach (var orphan in descendants.Where(ProcFs.IsAlive))
            {
                try
                {
                    Process.GetProcessById(orphan).Kill();
                }
                catch (ArgumentException)
                {
                }
            }

            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }

        _output.Enqueue(line);
        if (line.Contains("Distributed application started", StringComparison.Ordinal))
        {
            _started.TrySetResult();
        }
    }
}
