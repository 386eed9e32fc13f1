using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace AppHost.Hosting;

/// <summary>The running AppHost: a generic host whose hosted service starts and stops the resources.</summary>
public sealed class DistributedApplication : IHost, IAsyncDisposable
{
    private readonly IHost _host;
    private int _disposed;

    internal DistributedApplication(IHost host) => _host = host;

    public static IDistributedApplicationBuilder CreateBuilder(string[] args) => new DistributedApplicationBuilder(args);

    public IServiceProvider Services => _host.Services;

    public ResourceNotificationService ResourceNotifications => _host.Services.GetRequiredService<ResourceNotificationService>();

    public ResourceLoggerService ResourceLogs => _host.Services.GetRequiredService<ResourceLoggerService>();

    public ResourceCommandService ResourceCommands => new(_host.Services.GetRequiredService<Orchestrator>());

    /// <summary>The URL of a resource's endpoint (first replica). Throws before the application has started.</summary>
    public Uri GetEndpoint(string resourceName, string? endpointName = null) =>
        _host.Services.GetRequiredService<Orchestrator>().GetEndpoint(resourceName, endpointName);

    public Task StartAsync(CancellationToken cancellationToken = default) => _host.StartAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken = default) => _host.StopAsync(cancellationToken);

    /// <summary>Runs until Ctrl+C or SIGTERM (exit code 0), or until a resource fails (exit code 1).</summary>
    public void Run() => RunAsync().GetAwaiter().GetResult();

    public async Task RunAsync(CancellationToken cancellationToken = default)
    {
        var orchestrator = _host.Services.GetRequiredService<Orchestrator>();
        await _host.RunAsync(cancellationToken);
        if (orchestrator.Failure is not null)
        {
            Environment.ExitCode = 1;
        }
    }

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <summary>
    /// Stops every resource process (IHost.Dispose alone would leave them running, orphaned), then
    /// disposes the host, as Aspire's DistributedApplication does.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
        {
            await _host.StopAsync(timeout.Token);
        }

        if (_host is IAsyncDisposable asyncDisposable)
        {
            await asyncDisposable.DisposeAsync();
        }
        else
        {
            _host.Dispose();
        }
    }
}
