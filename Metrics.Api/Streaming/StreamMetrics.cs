using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Metrics.Api.Streaming;

/// <summary>
/// The stream instruments, shaped like ASP.NET Core's own (HostingMetrics, SignalR): one meter
/// from <see cref="IMeterFactory"/>, semantic-convention names, UCUM units, bounded attributes.
/// </summary>
public sealed class StreamMetrics
{
    public const string MeterName = "Metrics.Api.Streams";
    public const string ActiveStreamsName = "sse.server.active_streams";
    public const string CleanupsName = "sse.server.stream.cleanups";
    public const string DurationName = "sse.server.stream.duration";
    public const string EventsSentName = "sse.server.events.sent";
    public const string EventsDroppedName = "sse.server.events.dropped";
    public const string EventsSkippedName = "sse.server.events.skipped";
    public const string EventLogReadName = "sse.server.event_log.read";
    public const string ReplayLookupsName = "sse.server.replay.lookups";

    /// <summary>Attribute on replay lookups: where the missed events came from.</summary>
    public const string ReplaySourceAttribute = "sse.replay.source";
    public const string ReplayFromMemory = "memory";
    public const string ReplayFromLog = "event_log";

    /// <summary>Attribute on cleanups and durations; values from <see cref="StreamEndReasonExtensions.ToTagValue"/>.</summary>
    public const string EndReasonAttribute = "sse.stream.end_reason";

    private readonly UpDownCounter<long> _activeStreams;
    private readonly Counter<long> _cleanups;
    private readonly Histogram<double> _duration;
    private readonly Counter<long> _eventsDropped;
    private readonly Counter<long> _eventsSkipped;
    private readonly Counter<long> _eventLogRead;
    private readonly Counter<long> _replayLookups;
    private Func<long>? _sentEvents;

    public StreamMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        _activeStreams = meter.CreateUpDownCounter<long>(
            ActiveStreamsName, unit: "{stream}", description: "Number of server-sent event streams currently open.");
        _cleanups = meter.CreateCounter<long>(
            CleanupsName, unit: "{stream}", description: "Number of streams that ended, by reason.");
        _duration = meter.CreateHistogram<double>(
            DurationName,
            unit: "s",
            description: "How long streams stayed open.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [1, 5, 15, 30, 60, 300, 900, 1800, 3600, 7200] });
        // Observed, not added per write: a write then touches nothing shared (each stream counts its own).
        meter.CreateObservableCounter(
            EventsSentName,
            () => _sentEvents?.Invoke() ?? 0,
            unit: "{event}",
            description: "Number of events written to streams (heartbeats included).");
        _eventsDropped = meter.CreateCounter<long>(
            EventsDroppedName, unit: "{event}", description: "Number of events queued for a stream that ended before they were written.");
        _eventsSkipped = meter.CreateCounter<long>(
            EventsSkippedName,
            unit: "{event}",
            description: "Number of events a lagging stream skipped because a newer event of the same source superseded them.");
        _eventLogRead = meter.CreateCounter<long>(
            EventLogReadName, unit: "{event}", description: "Number of events this replica read from the shared event log (Redis) to fan out.");
        _replayLookups = meter.CreateCounter<long>(
            ReplayLookupsName, unit: "{lookup}", description: "Number of resumed streams whose missed events were looked up, by where they came from.");
    }

    public void StreamOpened() => _activeStreams.Add(1);

    public void StreamEnded(StreamEndReason reason, TimeSpan duration)
    {
        _activeStreams.Add(-1);
        var tags = new TagList { { EndReasonAttribute, reason.ToTagValue() } };
        _cleanups.Add(1, tags);
        _duration.Record(duration.TotalSeconds, tags);
    }

    /// <summary>Where <c>sse.server.events.sent</c> reads its total from.</summary>
    public void ObserveSentEvents(Func<long> sentEvents) => _sentEvents = sentEvents;

    public void EventsSkipped(long count) => _eventsSkipped.Add(count);

    public void EventsReadFromLog(int count)
    {
        if (count > 0)
        {
            _eventLogRead.Add(count);
        }
    }

    public void ReplayLookup(string source) => _replayLookups.Add(1, new KeyValuePair<string, object?>(ReplaySourceAttribute, source));

    public void EventsDropped(long count) => _eventsDropped.Add(count);
}
