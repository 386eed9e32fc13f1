using System.Text.Json;
using Metrics.Api.Streaming;
using Microsoft.Extensions.Options;

namespace Metrics.Api.Sampling;

/// <summary>
/// The one sampler for all streams: every interval it takes a sample, serializes it once and
/// publishes it as a <c>metrics</c> event. Streams never sample on their own.
/// </summary>
public sealed class MetricsSampler(
    IEventHub hub,
    MetricsCollector collector,
    IOptions<SamplerOptions> options,
    TimeProvider timeProvider,
    ILogger<MetricsSampler> logger) : BackgroundService
{
    public const string EventType = "metrics";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.Enabled)
        {
            return;
        }

        collector.Collect(); // Primes the CPU and rate baselines so the first event has real rates.
        using var timer = new PeriodicTimer(options.Value.Interval, timeProvider);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    var payload = JsonSerializer.SerializeToUtf8Bytes(collector.Collect(), SamplingJsonContext.Default.MetricsSample);
                    await hub.PublishAsync(EventType, payload, stoppingToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    SamplingLog.SampleFailed(logger, ex);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }
}
