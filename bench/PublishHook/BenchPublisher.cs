using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Metrics.Api.Sampling;
using Metrics.Api.Streaming;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace PublishHook;

/// <summary>
/// Publishes real <c>metrics</c> events (the service's own <see cref="MetricsCollector"/> sample, serialized with
/// its own JSON context, so the payload and its <c>timestamp</c> are the product's) at <c>Bench:PublishRate</c>
/// events per second through the service's <see cref="IEventHub"/>. Run it with
/// <c>Streaming__Sampler__Enabled=false</c> so that it is the only publisher.
/// </summary>
/// <remarks>
/// The schedule is absolute (event k is due at k / rate seconds after the start), so timer jitter never lowers the
/// rate: a late tick publishes every event that has come due. Bounded by <c>Bench:PublishSeconds</c> (default 1 h).
/// </remarks>
internal sealed partial class BenchPublisher(
    IEventHub hub,
    MetricsCollector collector,
    IConfiguration configuration,
    ILogger<BenchPublisher> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var rate = configuration.GetValue("Bench:PublishRate", 0.0);
        if (rate <= 0)
        {
            return;
        }

        var limit = TimeSpan.FromSeconds(configuration.GetValue("Bench:PublishSeconds", 3600.0));
        LogStarted(logger, rate.ToString(CultureInfo.InvariantCulture));
        collector.Collect(); // primes the rate baselines, as the sampler does
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(Math.Max(1 / rate, 0.001)));
        var start = Stopwatch.GetTimestamp();
        long published = 0;
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                var elapsed = Stopwatch.GetElapsedTime(start);
                if (elapsed > limit)
                {
                    return;
                }

                var due = (long)(elapsed.TotalSeconds * rate);
                for (; published < due; published++)
                {
                    var payload = JsonSerializer.SerializeToUtf8Bytes(collector.Collect(), SamplingJsonContext.Default.MetricsSample);
                    await hub.PublishAsync(MetricsSampler.EventType, payload, stoppingToken);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    [LoggerMessage(1, LogLevel.Warning, "Benchmark publisher: {Rate} metrics events per second (Bench:PublishRate).")]
    private static partial void LogStarted(ILogger logger, string rate);
}
