namespace Edge.Proxy;

/// <summary>The edge's own log messages; every event id is defined here, one range per area.</summary>
internal static partial class EdgeLog
{
    // 2xxx: proxying
    [LoggerMessage(EventId = 2001, EventName = "StreamEnded", Level = LogLevel.Debug,
        Message = "Stream on route {RouteId} ended after {DurationSeconds:F1} s: {EndReason} ({ForwarderError})")]
    public static partial void StreamEnded(ILogger logger, string routeId, double durationSeconds, Telemetry.ProxiedStreamOutcome endReason, Yarp.ReverseProxy.Forwarder.ForwarderError forwarderError);

    [LoggerMessage(EventId = 2002, EventName = "UpstreamFailureAnswered", Level = LogLevel.Debug,
        Message = "Answered {StatusCode} with a problem body for route {RouteId} ({ForwarderError})")]
    public static partial void UpstreamFailureAnswered(ILogger logger, int statusCode, string routeId, Yarp.ReverseProxy.Forwarder.ForwarderError forwarderError);

    [LoggerMessage(EventId = 2003, EventName = "UpstreamLimitExceeded", Level = LogLevel.Information,
        Message = "Answered {StatusCode} instead of forwarding to cluster {ClusterId}: {Refusal}")]
    public static partial void UpstreamLimitExceeded(ILogger logger, string clusterId, Forwarding.Refusal refusal, int statusCode);
}
