using System.Globalization;

namespace Fanout;

/// <summary>One row of the results table.</summary>
public sealed record Result(
    string Mode,
    int Subscribers,
    double PublishRate,
    long Delivered,
    double DeliveredPerSecond,
    double P50Ms,
    double P99Ms,
    double MaxMs,
    double AllocatedBytesPerDelivery,
    double? NetAllocatedBytesPerDelivery,
    double BytesPerStream,
    string MemoryNote,
    double ServerCpuPercent,
    double? ClientCpuPercent,
    double? EventP99MedianMs = null,
    double? EventP99WorstMs = null)
{
    public const string TableHeader =
        "| Mode | Subscribers | Publish rate | Delivered | Delivered events/s | p50 ms | p99 ms | max ms | Allocated B / delivered event | same, net of idle server | Memory / open stream | Server CPU | Client CPU | p99 of one event: median / worst ms |\n" +
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|";

    public const string Notes =
        "Latency: publish (in process: hub timestamp; HTTP: the sample's own unix-ms timestamp) to the subscriber having the event.\n" +
        "In process: subscribers run the endpoint's read loop on the real hub (no HTTP); allocation is the whole process over the run.\n" +
        "HTTP/2: a real Metrics.Api process (h2c endpoint), clients in this process; server allocation and memory come from the server's own metrics events (GC.GetTotalAllocatedBytes, working set, GC heap).\n" +
        "CPU: % of all cores of the machine (100 % = both cores busy), averaged over the measured window.\n" +
        "\"Net of idle server\" subtracts the allocation rate the server had with no stream open (its sampler, timers) over the same window.\n" +
        "p99 of one event: the p99 over the subscribers of each event (events every subscriber got inside the window), then the median and the worst of those. " +
        "The overall p99 is decided by the worst event or two of the window; this column shows how far that is from a typical event.";

    public string ToTableRow() => string.Create(
        CultureInfo.InvariantCulture,
        $"| {Mode} | {Subscribers:N0} | {(PublishRate > 0 ? $"{PublishRate:0.#}/s" : "closed loop")} | {Delivered:N0} | {DeliveredPerSecond:N0} | {P50Ms:F2} | {P99Ms:F2} | {MaxMs:F1} | {AllocatedBytesPerDelivery:F2} | {(NetAllocatedBytesPerDelivery is { } net ? net.ToString("F2", CultureInfo.InvariantCulture) : "n/a")} | {BytesPerStream / 1024:F1} KiB {MemoryNote} | {ServerCpuPercent:F0} % | {(ClientCpuPercent is { } client ? $"{client:F0} %" : "same process")} | {(EventP99MedianMs is { } median && EventP99WorstMs is { } worst ? $"{median:F1} / {worst:F1}" : "n/a")} |");

    public static (double P50, double P99, double Max) Percentiles(double[] samples, int count)
    {
        if (count == 0)
        {
            return (double.NaN, double.NaN, double.NaN);
        }

        Array.Sort(samples, 0, count);
        return (samples[(int)(count * 0.50)], samples[Math.Min(count - 1, (int)(count * 0.99))], samples[count - 1]);
    }

    /// <summary>
    /// The p99 of each event over its subscribers, then the median and the worst of those. Events that fewer than
    /// <paramref name="fullEvent"/> subscribers recorded (cut by the window's edges) are left out.
    /// </summary>
    public static (double Median, double Worst)? PerEventP99(IEnumerable<(long Event, double LatencyMs)> samples, int fullEvent)
    {
        var perEvent = samples
            .GroupBy(sample => sample.Event, sample => sample.LatencyMs)
            .Select(latencies => latencies.ToArray())
            .Where(latencies => latencies.Length >= fullEvent)
            .Select(latencies => Percentiles(latencies, latencies.Length).P99)
            .Order()
            .ToArray();
        return perEvent.Length == 0 ? null : (perEvent[perEvent.Length / 2], perEvent[^1]);
    }
}
