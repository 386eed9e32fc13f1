using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// Sends the last telemetry once the host has stopped, for at most <see cref="FlushTimeout"/>, before the providers are
/// disposed. Under Aspire the OTLP exporter retries a failed export (<c>OTEL_DOTNET_EXPERIMENTAL_OTLP_RETRY=in_memory</c>)
/// until its 10 s timeout, and disposing a provider waits for that export: with the collector or the Aspire dashboard
/// down, every stop took 10–11 s, longer than DCP waits for a stopping resource. What is not sent by then is dropped.
/// </summary>
internal sealed class TelemetryFlushOnStop(IServiceProvider services) : IHostedLifecycleService
{
    public static readonly TimeSpan FlushTimeout = TimeSpan.FromSeconds(2);

    public Task StoppedAsync(CancellationToken cancellationToken)
    {
        var timeout = (int)FlushTimeout.TotalMilliseconds;
        // A provider shut down once is not exported again when it is disposed. The three flush side by side.
        return Task.WhenAll(
            Task.Run(() => services.GetService<TracerProvider>()?.Shutdown(timeout), CancellationToken.None),
            Task.Run(() => services.GetService<MeterProvider>()?.Shutdown(timeout), CancellationToken.None),
            Task.Run(() => services.GetService<LoggerProvider>()?.Shutdown(timeout), CancellationToken.None));
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
