using System.Diagnostics;
using System.Text;
using Metrics.Api.Streaming;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace LoadTool;

/// <summary>
/// The fan-out alone (<c>inproc</c>): Metrics.Api's own hub (<c>AddMetricsStreaming</c>), N subscribers running the endpoint's read loop
/// without HTTP; latency at 10 events/s, then events/s and bytes allocated per delivery (whole process) in drained bursts. ≤ 60 s.
/// </summary>
public static class InProcess
{
    private const int LatencyEvents = 20, Bursts = 20, BurstSize = 64; // half the default queue: a healthy subscriber never overflows

    public static async Task<ScenarioResult> RunAsync(int count)
    {
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.AddMetricsStreaming();
        using var host = builder.Build();
        var hub = host.Services.GetRequiredService<IEventHub>();
        var payload = Encoding.UTF8.GetBytes(NchanPublisher.Payload(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), 1));
        var memoryBefore = GC.GetTotalMemory(forceFullCollection: true);
        var subscribers = new Subscriber[count];
        for (var i = 0; i < count; i++) subscribers[i] = new Subscriber(await hub.SubscribeAsync(new SubscriptionRequest($"user-{i % 100}", null), limit.Token));

        var consumers = subscribers.Select(s => s.RunAsync()).ToArray();
        await Task.Delay(200, limit.Token); // every read loop parks on its queue
        var memoryPerSubscriber = (double)(GC.GetTotalMemory(forceFullCollection: true) - memoryBefore) / count;

        Recorder.Start();
        for (var i = 0; i < LatencyEvents; i++)
        {
            await hub.PublishAsync("metrics", payload, limit.Token);
            await Task.Delay(100, limit.Token);
        }

        await WaitForAsync(subscribers, LatencyEvents, limit.Token);
        Recorder.Stop();
        var latency = Recorder.Collect(count).Latency;

        var (allocatedBefore, cpuBefore) = (GC.GetTotalAllocatedBytes(precise: true), Environment.CpuUsage.TotalTime);
        var stopwatch = Stopwatch.StartNew();
        for (var burst = 1; burst <= Bursts; burst++)
        {
            for (var i = 0; i < BurstSize; i++) await hub.PublishAsync("metrics", payload, limit.Token);
            await WaitForAsync(subscribers, LatencyEvents + (burst * BurstSize), limit.Token);
        }

        var (elapsed, delivered, allocated) = (stopwatch.Elapsed.TotalSeconds, (long)count * Bursts * BurstSize, GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore);
        var overflowed = subscribers.Count(s => s.Subscription.IsEnded);
        foreach (var s in subscribers) s.Subscription.Dispose();
        await Task.WhenAll(consumers);
        return new ScenarioResult
        {
            Scenario = "InProcess", Target = "hub", Streams = count,
            Open = new LoadReport { Open = count - overflowed, Attempted = count, Drops = overflowed == 0 ? [] : new() { ["overflowed"] = overflowed } },
            Measure = new LoadReport
            {
                WindowSeconds = elapsed, Events = delivered, LatencyMicroseconds = latency.ToSparse(), OpenAtEnd = count - overflowed,
                ClientCpuSeconds = (Environment.CpuUsage.TotalTime - cpuBefore).TotalSeconds,
            },
            AllocatedPerEvent = (double)allocated / delivered, GcHeapPerStream = memoryPerSubscriber,
        };
    }

    private static async Task WaitForAsync(Subscriber[] subscribers, int received, CancellationToken cancellationToken)
    {
        while (subscribers.Any(s => !s.Subscription.IsEnded && Volatile.Read(ref s.Received) < received)) await Task.Delay(1, cancellationToken);
    }

    private sealed class Subscriber(StreamSubscription subscription)
    {
        public int Received;

        public StreamSubscription Subscription => subscription;

        /// <summary>The endpoint's loop (EventStreamWriter), minus the response writes.</summary>
        public async Task RunAsync()
        {
            var batch = new List<StreamEvent>();
            while (await subscription.WaitToReadAsync())
            {
                batch.Clear();
                subscription.TakeQueued(batch);
                foreach (var streamEvent in batch)
                    Recorder.Record((long)(Stopwatch.GetElapsedTime(streamEvent.Timestamp).TotalMilliseconds * 1000), streamEvent.Data.Length, 0);
                subscription.RecordSent(batch.Count);
                Interlocked.Add(ref Received, batch.Count);
            }
        }
    }
}
