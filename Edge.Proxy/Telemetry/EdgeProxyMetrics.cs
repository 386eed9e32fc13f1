using System.Diagnostics;
using System.Diagnostics.Metrics;
using Yarp.ReverseProxy.Forwarder;

namespace Edge.Proxy.Telemetry;

/// <summary>
/// How a proxied stream ended as the edge saw it: a bounded set derived from YARP's <see cref="ForwarderError"/>. Not
/// Metrics.Api's StreamEndReason (why the API itself ended a stream), hence the different name; the edge cannot know that.
/// </summary>
public enum ProxiedStreamOutcome
{
    /// <summary>The upstream completed the stream (ForwarderError.None).</summary>
    Completed,

    /// <summary>The client went away (tab closed, EventSource.close(), network drop).</summary>
    ClientAborted,

    /// <summary>The upstream failed: refused, reset, died mid-stream, or no destination was available.</summary>
    DestinationError,

    /// <summary>Nothing flowed for the cluster's ActivityTimeout: the upstream stopped sending heartbeats.</summary>
    ActivityTimeout,

    /// <summary>The edge reset the stream because it is shutting down (see StreamShutdownMiddleware).</summary>
    Shutdown,

    /// <summary>Any other proxy failure.</summary>
    Other,
}

/// <summary>
/// The edge's instruments, on the <see cref="MeterName"/> meter (built through <see cref="IMeterFactory"/>).
/// </summary>
/// <remarks>
/// YARP 2.3.0 has no <c>System.Diagnostics.Metrics</c> meter of its own, only process-wide EventCounters. The
/// <c>edge.proxy.forwarder.*</c> instruments are counted here, by the proxy pipeline, instead of bridged from those
/// through an EventListener: the counts are exact and immediate, belong to this host (tests run many in one
/// process), and nothing takes the runtime's EventListener locks, which have deadlocked listeners that are created
/// and disposed concurrently (dotnet/runtime#78233, #96219).
/// </remarks>
public sealed class EdgeProxyMetrics
{
    public const string MeterName = "Edge.Proxy";

    public const string EndedStreamsName = "edge.proxy.ended_streams";
    public const string StreamDurationName = "edge.proxy.stream.duration";
    public const string ForwarderRequestsName = "edge.proxy.forwarder.requests";
    public const string ForwarderFailedRequestsName = "edge.proxy.forwarder.failed_requests";
    public const string ForwarderActiveRequestsName = "edge.proxy.forwarder.active_requests";

    public const string RouteTag = "edge.proxy.route";
    public const string EndReasonTag = "edge.proxy.stream.end_reason";
    public const string ErrorTypeTag = "error.type";

    private static readonly Dictionary<ForwarderError, string> ErrorNames =
        Enum.GetValues<ForwarderError>().Distinct().ToDictionary(e => e, e => e.ToString());

    private readonly Counter<long> _endedStreams;
    private readonly Histogram<double> _streamDuration;
    private readonly Counter<long> _forwardedRequests;
    private readonly Counter<long> _failedRequests;
    private readonly UpDownCounter<long> _activeRequests;

    public EdgeProxyMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);

        _endedStreams = meter.CreateCounter<long>(
            EndedStreamsName, unit: "{stream}",
            description: "Proxied event streams that ended, by how they ended.");
        _streamDuration = meter.CreateHistogram<double>(
            StreamDurationName, unit: "s",
            description: "How long proxied event streams stayed open.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600] });

        _forwardedRequests = meter.CreateCounter<long>(
            ForwarderRequestsName, unit: "{request}",
            description: "Requests routed to the proxy, by route.");
        _failedRequests = meter.CreateCounter<long>(
            ForwarderFailedRequestsName, unit: "{request}",
            description: "Proxied requests that failed, by route and YARP's ForwarderError.");
        _activeRequests = meter.CreateUpDownCounter<long>(
            ForwarderActiveRequestsName, unit: "{request}",
            description: "Requests being proxied now, open streams included, by route.");
    }

    public static string ToTagValue(ProxiedStreamOutcome reason) => reason switch
    {
        ProxiedStreamOutcome.Completed => "completed",
        ProxiedStreamOutcome.ClientAborted => "client_aborted",
        ProxiedStreamOutcome.DestinationError => "destination_error",
        ProxiedStreamOutcome.ActivityTimeout => "activity_timeout",
        ProxiedStreamOutcome.Shutdown => "shutdown",
        _ => "other",
    };

    public static string ToTagValue(ForwarderError error) =>
        ErrorNames.TryGetValue(error, out var name) ? name : "_OTHER";

    public void RequestStarted(string routeId)
    {
        var route = new KeyValuePair<string, object?>(RouteTag, routeId);
        _forwardedRequests.Add(1, route);
        _activeRequests.Add(1, route);
    }

    /// <summary>A proxied request ended with YARP's <paramref name="error"/>; null when the pipeline threw.</summary>
    public void RequestEnded(string routeId, ForwarderError? error)
    {
        var route = new KeyValuePair<string, object?>(RouteTag, routeId);
        _activeRequests.Add(-1, route);
        if (error != ForwarderError.None)
        {
            _failedRequests.Add(1, route, new KeyValuePair<string, object?>(ErrorTypeTag, error is { } known ? ToTagValue(known) : "_OTHER"));
        }
    }

    public void StreamEnded(string routeId, ProxiedStreamOutcome reason, ForwarderError error, TimeSpan duration)
    {
        if (!_endedStreams.Enabled && !_streamDuration.Enabled)
        {
            return;
        }

        var tags = new TagList
        {
            { RouteTag, routeId },
            { EndReasonTag, ToTagValue(reason) },
        };
        if (error != ForwarderError.None)
        {
            tags.Add(ErrorTypeTag, ToTagValue(error));
        }

        _endedStreams.Add(1, tags);
        _streamDuration.Record(duration.TotalSeconds, tags);
    }
}
