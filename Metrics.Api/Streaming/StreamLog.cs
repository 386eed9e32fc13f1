namespace Metrics.Api.Streaming;

/// <summary>Source-generated log messages for streaming; event ids 1100-1199.</summary>
internal static partial class StreamLog
{
    [LoggerMessage(EventId = 1101, EventName = "StreamEnded", Level = LogLevel.Debug,
        Message = "Stream ended ({Reason}) after {Duration} and {SentEvents} events.")]
    public static partial void StreamEnded(ILogger logger, StreamEndReason reason, TimeSpan duration, long sentEvents);

    [LoggerMessage(EventId = 1102, EventName = "SlowConsumerCut", Level = LogLevel.Information,
        Message = "Cut a stream whose client stopped reading: events waited longer than {StalledStreamTimeout}.")]
    public static partial void SlowConsumerCut(ILogger logger, TimeSpan stalledStreamTimeout);

    [LoggerMessage(EventId = 1103, EventName = "StreamsEndingForShutdown", Level = LogLevel.Information,
        Message = "Shutting down: sent the farewell to {StreamCount} open streams.")]
    public static partial void StreamsEndingForShutdown(ILogger logger, int streamCount);

    [LoggerMessage(EventId = 1104, EventName = "InvalidLastEventId", Level = LogLevel.Debug,
        Message = "Rejected a stream request with a malformed Last-Event-ID ({Source}).")]
    public static partial void InvalidLastEventId(ILogger logger, string source);
}
