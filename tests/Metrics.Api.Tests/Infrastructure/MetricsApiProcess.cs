using System.Diagnostics;

namespace Metrics.Api.Tests.Infrastructure;

/// <summary>
/// Metrics.Api as a real process (<c>dotnet Metrics.Api.dll</c>), for what only a process shows:
/// SIGTERM handling, exit time, console logs and OTLP export. Both endpoints bind 127.0.0.1:0.
/// </summary>
public sealed class MetricsApiProcess : IAsyncDisposable
{
    private readonly ServerProcess _process;

    private MetricsApiProcess(ServerProcess process) => _process = process;

    public Uri Http1Address { get; private set; } = null!;

    public Uri H2cAddress { get; private set; } = null!;

    public int ProcessId => _process.Id;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>Everything the process wrote to stdout and stderr so far.</summary>
    public string Output => _process.Output;

    public static async Task<MetricsApiProcess> StartAsync(IReadOnlyDictionary<string, string> environment)
    {
        var appPath = Path.Combine(AppContext.BaseDirectory, "Metrics.Api.dll");
        var start = new ProcessStartInfo(ServerProcess.DotnetHost) { WorkingDirectory = AppContext.BaseDirectory };
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

        var app = new MetricsApiProcess(ServerProcess.Start("Metrics.Api", start));
        IReadOnlyList<Uri> listening;
        try
        {
            listening = await app._process.WaitListeningAsync(TimeSpan.FromSeconds(30));
        }
        catch (InvalidOperationException)
        {
            await app.DisposeAsync();
            throw;
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
    public void SendSigterm() => _process.Signal("TERM");

    public Task<bool> WaitForExitAsync(TimeSpan timeout) => _process.WaitForExitAsync(timeout);

    public ValueTask DisposeAsync() => _process.DisposeAsync();
}
