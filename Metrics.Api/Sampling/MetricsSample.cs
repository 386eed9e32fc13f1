namespace Metrics.Api.Sampling;

/// <summary>The payload of every <c>metrics</c> event.</summary>
/// <param name="Timestamp">When it was sampled, unix milliseconds.</param>
/// <param name="InstanceId">The replica that sampled it.</param>
public sealed record MetricsSample(
    long Timestamp,
    string InstanceId,
    ProcessMetrics Process,
    HostMetrics Host,
    StreamTotals Streams);

/// <param name="CpuPercent">CPU used by this process since the previous sample, as % of the CPUs it may use; null on the first sample.</param>
/// <param name="AllocatedBytes">Bytes allocated on the managed heap since the process started.</param>
public sealed record ProcessMetrics(
    double? CpuPercent,
    long WorkingSetBytes,
    long GcHeapBytes,
    long AllocatedBytes,
    long ThreadPoolQueueLength,
    int ThreadPoolThreads);

/// <param name="Source">"cgroup" when the numbers are the container's (cgroup v2), "proc" when they are the host's.</param>
/// <param name="CpuPercent">CPU used since the previous sample, as % of <paramref name="CpuLimitCores"/>; null on the first sample.</param>
/// <param name="CpuLimitCores">CPUs available: the cgroup quota, else the processor count.</param>
public sealed record HostMetrics(
    string Source,
    double? CpuPercent,
    double CpuLimitCores,
    long? MemoryUsedBytes,
    long? MemoryLimitBytes);

/// <param name="Open">Streams open on this replica.</param>
/// <param name="Users">Distinct users with an open stream (anonymous viewers count as one).</param>
/// <param name="EventsPerSecond">Events written to streams per second since the previous sample.</param>
public sealed record StreamTotals(int Open, int Users, double EventsPerSecond);
