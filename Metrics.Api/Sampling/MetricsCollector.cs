using Metrics.Api.Hosting;
using Metrics.Api.Streaming;
using Microsoft.Extensions.Options;

namespace Metrics.Api.Sampling;

/// <summary>Takes one <see cref="MetricsSample"/>; rates are measured against the previous call.</summary>
public sealed class MetricsCollector
{
    private readonly StreamSubscribers _subscribers;
    private readonly TimeProvider _timeProvider;
    private readonly HostResourceReader _host;
    private readonly string _instanceId;
    private (TimeSpan ProcessCpu, long SentEvents, long Timestamp)? _previous;

    public MetricsCollector(
        StreamSubscribers subscribers,
        IOptions<SamplerOptions> options,
        IConfiguration configuration,
        TimeProvider timeProvider)
    {
        _subscribers = subscribers;
        _timeProvider = timeProvider;
        _instanceId = InstanceIdentity.From(configuration);
        _host = new HostResourceReader(options.Value.CgroupRoot, options.Value.ProcRoot, Environment.ProcessorCount, timeProvider);
    }

    public MetricsSample Collect()
    {
        var now = _timeProvider.GetTimestamp();
        var processCpu = Environment.CpuUsage.TotalTime;
        var sentEvents = _subscribers.SentEvents;

        double? processCpuPercent = null;
        var eventsPerSecond = 0.0;
        if (_previous is { } before && _timeProvider.GetElapsedTime(before.Timestamp, now) is { TotalSeconds: > 0 } elapsed)
        {
            // Environment.ProcessorCount already honours the container's CPU limit.
            processCpuPercent = Math.Round(
                Math.Clamp((processCpu - before.ProcessCpu) / (elapsed * Environment.ProcessorCount), 0, 1) * 100, 2);
            eventsPerSecond = Math.Round((sentEvents - before.SentEvents) / elapsed.TotalSeconds, 2);
        }

        _previous = (processCpu, sentEvents, now);

        return new MetricsSample(
            Timestamp: _timeProvider.GetUtcNow().ToUnixTimeMilliseconds(),
            InstanceId: _instanceId,
            Process: new ProcessMetrics(
                CpuPercent: processCpuPercent,
                WorkingSetBytes: Environment.WorkingSet,
                GcHeapBytes: GC.GetTotalMemory(forceFullCollection: false),
                AllocatedBytes: GC.GetTotalAllocatedBytes(),
                ThreadPoolQueueLength: ThreadPool.PendingWorkItemCount,
                ThreadPoolThreads: ThreadPool.ThreadCount),
            Host: _host.Read(),
            Streams: new StreamTotals(_subscribers.Count, _subscribers.DistinctUsers, eventsPerSecond));
    }
}
