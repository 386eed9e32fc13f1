using System.Diagnostics.Tracing;

namespace Edge.Proxy.Telemetry;

/// <summary>
/// Listens to the EventCounters of YARP's "Yarp.ReverseProxy" EventSource and keeps their latest values.
/// Enabled at level Critical, so YARP's per-request events stay off and only the counter payloads arrive.
/// </summary>
internal sealed class YarpForwarderCounters : EventListener
{
    private const string EventSourceName = "Yarp.ReverseProxy";
    private const string IntervalSeconds = "1";

    private long _requestsStarted;
    private long _requestsFailed;
    private long _currentRequests;

    public long RequestsStarted => Volatile.Read(ref _requestsStarted);

    public long RequestsFailed => Volatile.Read(ref _requestsFailed);

    public long CurrentRequests => Volatile.Read(ref _currentRequests);

    protected override void OnEventSourceCreated(EventSource eventSource)
    {
        // Runs from the base constructor for sources that already exist, so it may not touch instance state.
        if (eventSource.Name == EventSourceName)
        {
            EnableEvents(eventSource, EventLevel.Critical, EventKeywords.None,
                new Dictionary<string, string?> { ["EventCounterIntervalSec"] = IntervalSeconds });
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs eventData)
    {
        if (eventData.EventName != "EventCounters" || eventData.Payload is not [IDictionary<string, object?> payload, ..])
        {
            return;
        }

        if (payload.TryGetValue("Name", out var nameValue) && nameValue is string name
            && payload.TryGetValue("Mean", out var meanValue) && meanValue is double mean)
        {
            var value = (long)mean;
            switch (name)
            {
                case "requests-started":
                    Volatile.Write(ref _requestsStarted, value);
                    break;
                case "requests-failed":
                    Volatile.Write(ref _requestsFailed, value);
                    break;
                case "current-requests":
                    Volatile.Write(ref _currentRequests, value);
                    break;
            }
        }
    }
}
