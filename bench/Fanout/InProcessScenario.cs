using System.Diagnostics;
using System.Text;
using Metrics.Api.Streaming;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Fanout;

/// <summary>
/// The real hub with N subscribers that run the endpoint's read loop (WaitToReadAsync / TryRead /
/// RecordSent) without HTTP: the cost of fan-out itself.
/// </summary>
public static class InProcessScenario
{
    private const int LatencyEvents = 20;
    private const double LatencyRate = 10;
    private const int Bursts = 20;
    private const int BurstSize = 64; // half the default queue: a healthy subscriber never overflows

    public static async Task<Result> RunAsync(int subscriberCount)
    {
        Console.Error.WriteLine($"in process, {subscriberCount:N0} subscribers...");
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using var services = BuildServices();
        var hub = services.GetRequiredService<InMemoryEventHub>();
        var payload = Encoding.UTF8.GetBytes(SamplePayload);

        var memoryBefore = Memory();
        var subscribers = new Subscriber[subscriberCount];
        for (var i = 0; i < subscriberCount; i++)
        {
            subscribers[i] = new Subscriber(await hub.SubscribeAsync(new SubscriptionRequest($"user-{i % 100}", null)), LatencyEvents);
        }

        var consumers = subscribers.Select(s => s.RunAsync(TimeProvider.System)).ToArray();
        await Task.Delay(200, limit.Token); // let every read loop park on its queue
        var memoryPerSubscriber = (double)(Memory() - memoryBefore) / subscriberCount;

        // Latency: a steady rate, as the sampler publishes.
        foreach (var s in subscribers)
        {
            s.RecordLatency = true;
        }

        for (var i = 0; i < LatencyEvents; i++)
        {
            await hub.PublishAsync("metrics", payload);
            await Task.Delay(TimeSpan.FromSeconds(1 / LatencyRate), limit.Token);
        }

        await WaitForAsync(subscribers, LatencyEvents, limit.Token);
        foreach (var s in subscribers)
        {
            s.RecordLatency = false;
        }

        var latencies = subscribers.SelectMany(s => s.Latencies.Take(s.LatencyCount)).ToArray();
        var (p50, p99, max) = Result.Percentiles(latencies, latencies.Length);

        // Throughput and allocation: bursts as fast as subscribers drain them.
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        var cpuBefore = Environment.CpuUsage.TotalTime;
        var stopwatch = Stopwatch.StartNew();
        for (var burst = 1; burst <= Bursts; burst++)
        {
            for (var i = 0; i < BurstSize; i++)
            {
                await hub.PublishAsync("metrics", payload);
            }

            await WaitForAsync(subscribers, LatencyEvents + (burst * BurstSize), limit.Token);
        }

        var elapsed = stopwatch.Elapsed;
        var cpu = (Environment.CpuUsage.TotalTime - cpuBefore) / (elapsed * Environment.ProcessorCount) * 100;
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        var delivered = (long)subscriberCount * Bursts * BurstSize;
        var overflowed = subscribers.Count(s => s.Subscription.IsEnded);

        foreach (var s in subscribers)
        {
            s.Subscription.Dispose();
        }

        await Task.WhenAll(consumers);
        return new Result(
            overflowed == 0 ? "in process" : $"in process ({overflowed} overflowed)",
            subscriberCount,
            0,
            delivered,
            delivered / elapsed.TotalSeconds,
            p50,
            p99,
            max,
            (double)allocated / delivered,
            null,
            memoryPerSubscriber,
            "(managed, hub + read loop)",
            cpu,
            null);
    }

    /// <summary>A realistic metrics payload (about 480 bytes of JSON).</summary>
    public const string SamplePayload =
        "{\"timestamp\":1795692133804,\"instanceId\":\"metrics-api-7c9f\",\"process\":{\"cpuPercent\":2.17,\"workingSetBytes\":94535680," +
        "\"gcHeapBytes\":1639600,\"allocatedBytes\":2961392,\"threadPoolQueueLength\":0,\"threadPoolThreads\":3},\"host\":{\"source\":\"cgroup\"," +
        "\"cpuPercent\":12.5,\"cpuLimitCores\":2,\"memoryUsedBytes\":1100406784,\"memoryLimitBytes\":4294967296},\"streams\":{\"open\":10000," +
        "\"users\":100,\"eventsPerSecond\":10000}}";

    private static ServiceProvider BuildServices()
    {
        var services = new ServiceCollection()
            .AddSingleton<ILoggerFactory>(NullLoggerFactory.Instance)
            .AddSingleton(typeof(ILogger<>), typeof(NullLogger<>))
            .AddMetrics()
            .AddSingleton(TimeProvider.System)
            .AddSingleton<StreamMetrics>()
            .AddSingleton<StreamSubscribers>()
            .AddSingleton<InMemoryEventHub>();
        services.AddOptions<StreamingOptions>();
        return services.BuildServiceProvider();
    }

    private static long Memory()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        return GC.GetTotalMemory(forceFullCollection: true);
    }

    private static async Task WaitForAsync(Subscriber[] subscribers, int received, CancellationToken cancellationToken)
    {
        while (subscribers.Any(s => !s.Subscription.IsEnded && Volatile.Read(ref s.Received) < received))
        {
            await Task.Delay(1, cancellationToken);
        }
    }

    private sealed class Subscriber(StreamSubscription subscription, int latencySlots)
    {
        public int Received;

        public StreamSubscription Subscription { get; } = subscription;

        public double[] Latencies { get; } = new double[latencySlots];

        public int LatencyCount { get; private set; }

        public volatile bool RecordLatency;

        /// <summary>The endpoint's loop (EventStreamWriter), minus the response writes.</summary>
        public async Task RunAsync(TimeProvider time)
        {
            var batch = new List<StreamEvent>();
            while (await Subscription.WaitToReadAsync())
            {
                batch.Clear();
                Subscription.TakeQueued(batch);
                foreach (var streamEvent in batch)
                {
                    if (RecordLatency && LatencyCount < Latencies.Length)
                    {
                        Latencies[LatencyCount++] = time.GetElapsedTime(streamEvent.Timestamp).TotalMilliseconds;
                    }
                }

                Subscription.RecordSent(batch.Count);
                Interlocked.Add(ref Received, batch.Count);
            }
        }
    }
}
