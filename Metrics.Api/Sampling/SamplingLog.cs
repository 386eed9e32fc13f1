namespace Metrics.Api.Sampling;

/// <summary>Source-generated log messages for sampling.</summary>
internal static partial class SamplingLog
{
    // Its id is from streaming's range (1100-1199), where it was first logged; kept so log queries still find it.
    [LoggerMessage(EventId = 1105, EventName = "SampleFailed", Level = LogLevel.Warning,
        Message = "Could not sample metrics; the next tick will try again.")]
    public static partial void SampleFailed(ILogger logger, Exception exception);
}
