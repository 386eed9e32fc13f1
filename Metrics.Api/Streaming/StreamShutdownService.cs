namespace Metrics.Api.Streaming;

/// <summary>
/// Ends every stream the moment the host starts stopping. Streams never end by themselves, so
/// without this Kestrel would wait its whole shutdown timeout and then abort them. Each stream
/// completes with a jittered <c>retry</c>; nothing is cancelled or thrown.
/// </summary>
public sealed class StreamShutdownService(
    IHostApplicationLifetime lifetime,
    StreamSubscribers subscribers,
    ILogger<StreamShutdownService> logger) : IHostedService
{
    private CancellationTokenRegistration _registration;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _registration = lifetime.ApplicationStopping.Register(EndAllStreams);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        // Also covers a host stopped without ApplicationStopping (tests disposing the host).
        EndAllStreams();
        return _registration.DisposeAsync().AsTask();
    }

    private void EndAllStreams()
    {
        var ended = subscribers.EndAll(StreamEndReason.Shutdown);
        if (ended > 0)
        {
            StreamLog.StreamsEndingForShutdown(logger, ended);
        }
    }
}
