using Microsoft.Extensions.Options;

namespace Metrics.Api.Streaming;

/// <summary>
/// One timer for all streams: every interval the shared <c>ping</c> event goes into every queue.
/// Cheaper than a timer per stream, and a stream that stopped reading overflows on pings too.
/// </summary>
public sealed class HeartbeatService(
    StreamSubscribers subscribers,
    ControlEvents controlEvents,
    IOptions<StreamingOptions> options,
    TimeProvider timeProvider) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.HeartbeatInterval, timeProvider);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                subscribers.Deliver(controlEvents.Heartbeat);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }
}
