using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.RegularExpressions;
using Tests.Shared;

namespace Metrics.Api.Tests.Infrastructure;

/// <summary>
/// Metrics.Api as a real process (<c>dotnet Metrics.Api.dll</c>), for what only a process shows:
/// SIGTERM handling, exit time, console logs and OTLP export. Both endpoints bind 127.0.0.1:0.
/// </summary>
public sealed partial class MetricsApiProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    private MetricsApiProcess(Process process) => _process = process;

    public Uri Http1Address { get; private set; } = null!;

    public Uri H2cAddress { get; private set; } = null!;

    public int ProcessId => _process.Id;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>Everything the process wrote to stdout and stderr so far.</summary>
    public string Output => string.Join('\n', _output);

    public static async Task<MetricsApiProcess> StartAsync(IReadOnlyDictionary<string, string> environment)
    {
        var appPath = Path.Combine(AppContext.BaseDirectory, "Metrics.Api.dll");
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            WorkingDirectory = AppContext.BaseDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(appPath);
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment[FileWatching.ReloadConfigOnChangeVariable] = "false";
        start.Environment["Kestrel__Endpoints__http__Url"] = "http://127.0.0.1:0";
        start.Environment["Kestrel__Endpoints__h2c__Url"] = "http://127.0.0.1:0";
        start.Environment["Logging__Console__FormatterName"] = "simple";
        start.Environment["Logging__Console__FormatterOptions__SingleLine"] = "true";
        // The test identity provider, a ticket key, and no per-user stream limit to speak of.
        foreach (var (key, value) in TestTokens.BearerSettings())
        {
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        start.Environment["StreamTickets__SigningKey"] = Convert.ToBase64String(TestTokens.TicketKey);
        start.Environment["Streaming__Limits__MaxStreamsPerUser"] = "1000000";
        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start Metrics.Api.");
        var app = new MetricsApiProcess(process);
        var listening = new ConcurrentQueue<Uri>();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            app._output.Enqueue(e.Data);
            if (ListeningOn().Match(e.Data) is { Success: true } match)
            {
                listening.Enqueue(new Uri(match.Groups[1].Value));
            }
            else if (e.Data.Contains("Application started", StringComparison.Ordinal))
            {
                started.TrySetResult();
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                app._output.Enqueue(e.Data);
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        try
        {
            await started.Task.WaitAsync(TimeSpan.FromSeconds(30));
        }
        catch (TimeoutException)
        {
            await app.DisposeAsync();
            throw new InvalidOperationException($"Metrics.Api did not start:\n{app.Output}");
        }

        foreach (var address in listening)
        {
            using var probe = StreamClients.Http1(address);
            using var response = await probe.GetAsync(new Uri("/alive", UriKind.Relative));
            if (response.IsSuccessStatusCode)
            {
                app.Http1Address = address;
            }
            else
            {
                app.H2cAddress = address;
            }
        }

        return app;
    }

    /// <summary>What the container runtime sends on stop: SIGTERM, to this process only.</summary>
    public void SendSigterm()
    {
        using var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }

    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        try
        {
            await _process.WaitForExitAsync().WaitAsync(timeout);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    [GeneratedRegex(@"Now listening on: (http://\S+)")]
    private static partial Regex ListeningOn();
}
