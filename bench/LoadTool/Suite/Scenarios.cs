using System.Globalization;
using System.Threading.Channels;

namespace LoadTool;

/// <summary>The scenarios, each against a freshly started target and bounded in time (server start 60 s, per-stream open timeout, fixed windows, churn limit).</summary>
public sealed class Scenarios(SuiteOptions options, Targets targets)
{
    private TimeSpan Settle => TimeSpan.FromSeconds(options.SettleSeconds);
    private TimeSpan OpenLimit => TimeSpan.FromSeconds(options.OpenTimeoutSeconds + 120);

    /// <summary>
    /// W1 (N streams at 1 event/s), W2 (N streams at a high rate, Metrics.Api publishing through bench/PublishHook) and
    /// the hop (N streams through or around the edge): W1 and the hop open in two halves, so the memory of one more
    /// stream is a slope (without one-off costs); then a measurement window.
    /// </summary>
    public async Task<ScenarioResult> CapacityAsync(string scenario, string target, int streams, double rate = 1)
    {
        rate = scenario == "Hop" ? 1000.0 / options.HopIntervalMs : rate;
        await using var running = await targets.StartAsync(target, rate, publishHook: scenario == "W2");
        await WarmUpAsync(running.Load, streams, rate);
        var idle = running.Sample();
        await using var workers = await Workers.StartAsync(streams, running.Load, options.Dotnet);
        var half = scenario == "W2" ? null : await workers.OpenAsync(streams / 2, OpenLimit);
        await Task.Delay(half is null ? TimeSpan.Zero : Settle);
        var halfSample = half is null ? null : ProcStats.Sample(running.Pids);
        var opened = await workers.OpenAsync(streams - (half is null ? 0 : streams / 2), OpenLimit);
        await Task.Delay(Settle);
        var (full, redis) = (running.Sample(), running.Redis is { } r ? ProcStats.Sample([r.Id]) : null);
        var measured = await workers.MeasureAsync(scenario switch { "Hop" => options.HopSeconds, "W2" => options.W2Seconds, _ => options.W1Seconds });
        var (end, redisEnd) = (running.Sample(), running.Redis is { } re ? ProcStats.Sample([re.Id]) : null);
        return new ScenarioResult
        {
            // Rate: events each stream hears per second — with replicas on Redis, every replica's samples reach every stream.
            Scenario = scenario, Target = target, Streams = streams, Rate = rate * running.Sources, Workers = workers.Count, Open = opened, Measure = measured, ServerIdle = idle,
            ServerHalf = halfSample, OpenAtHalf = half?.Open ?? 0, ServerFull = full, ServerWindowStart = full, ServerWindowEnd = end,
            RedisWindowStart = redis, RedisWindowEnd = redisEnd, ReplicaOpen = running.Sources > 1 ? await ReportedAsync(running) : null,
        };
    }

    /// <summary>W3: open / first frame / close cycles, then idle: CPU back to (about) zero, memory back, no stream the server still counts?</summary>
    public async Task<ScenarioResult> ChurnAsync(string target)
    {
        await using var running = await targets.StartAsync(target, rate: 1, publishHook: false);
        await WarmUpAsync(running.Load, options.W3Concurrency, 1);
        var idle = ProcStats.Sample(running.Pids);
        await Task.Delay(Settle + TimeSpan.FromSeconds(1));
        var beforeChurn = ProcStats.Sample(running.Pids);
        await using var workers = await Workers.StartAsync(options.W3Concurrency, running.Load, options.Dotnet);
        var churn = await workers.ChurnAsync(options.W3Cycles, options.W3Concurrency, options.W3LimitSeconds);
        var afterChurn = ProcStats.Sample(running.Pids);
        await Task.Delay(TimeSpan.FromSeconds(options.W3IdleSeconds / 2));
        var idleMid = ProcStats.Sample(running.Pids);
        await Task.Delay(TimeSpan.FromSeconds(options.W3IdleSeconds / 2));
        var afterIdle = ProcStats.Sample(running.Pids);
        var reported = (await ReportedAsync(running))?.Sum();
        return new ScenarioResult
        {
            Scenario = "W3", Target = target, Streams = options.W3Concurrency, Rate = 1, Workers = workers.Count, Churn = churn, ServerIdle = idle,
            ServerBeforeChurn = beforeChurn, ServerWindowStart = beforeChurn, ServerWindowEnd = afterChurn, ServerAfterChurn = afterChurn,
            ServerIdleMid = idleMid, ServerAfterIdle = afterIdle, ServerReportedOpenAfterIdle = reported,
        };
    }

    /// <summary>
    /// The streaming core's fan-out (issue #3's targets): Metrics.Api alone, its sampler at 1 or 10/s, streams on connections of
    /// 5,000 (its own limit, which the edge fills), open through the warm-up, then ≥ FanoutEvents events measured; the p99 of each
    /// event over its subscribers; server allocation and GC heap from its own samples, read by a probe stream.
    /// </summary>
    public async Task<ScenarioResult> CoreFanoutAsync(int streams, double rate)
    {
        await using var running = await targets.StartAsync("api", rate, publishHook: false, streamsPerConnection: 5_000);
        var samples = Channel.CreateUnbounded<string>();
        await using var probe = await Probe.StartAsync(running.Load with { FirstStream = 900_000_000, StreamsPerConnection = 1 }, json => samples.Writer.TryWrite(json));
        async Task<(double At, double Allocated, double Heap)> NextSample()
        {
            while (samples.Reader.TryRead(out _)) ; // the next sample the server takes, not one it took before
            var json = await samples.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30));
            return (Probe.Field(json, "timestamp") ?? 0, Probe.Field(json, "allocatedBytes") ?? 0, Probe.Field(json, "gcHeapBytes") ?? 0);
        }

        // The server's own allocation rate with no stream but the probe (its sampler, timers).
        var idleStart = await NextSample();
        await Task.Delay(TimeSpan.FromSeconds(3));
        var idleEnd = await NextSample();
        var idle = ProcStats.Sample(running.Pids);
        await using var workers = await Workers.StartAsync(streams, running.Load with { PerEventP99 = true }, options.Dotnet);
        var opened = await workers.OpenAsync(streams, OpenLimit);
        await Task.Delay(TimeSpan.FromSeconds(Math.Max(options.SettleSeconds, options.WarmupEvents / rate)));
        var start = await NextSample();
        var full = ProcStats.Sample(running.Pids);
        var measured = await workers.MeasureAsync(Math.Max(options.Quick ? 4 : 12, options.FanoutEvents / rate));
        var end = await NextSample();
        var delivered = Math.Max(1, measured.Events);
        var idleRate = (idleEnd.Allocated - idleStart.Allocated) / Math.Max(1, idleEnd.At - idleStart.At);
        return new ScenarioResult
        {
            Scenario = "Fanout", Target = "api", Streams = streams, Rate = rate, Workers = workers.Count, Open = opened, Measure = measured,
            ServerIdle = idle, ServerFull = full, ServerWindowStart = full, ServerWindowEnd = ProcStats.Sample(running.Pids),
            AllocatedPerEvent = (end.Allocated - start.Allocated) / delivered,
            NetAllocatedPerEvent = (end.Allocated - start.Allocated - (idleRate * (end.At - start.At))) / delivered,
            GcHeapPerStream = (start.Heap - idleEnd.Heap) / Math.Max(1, opened.Open),
        };
    }

    /// <summary>Runs a target under the W1 load of <paramref name="streams"/> (or W2 at <paramref name="rate"/>) and profiles its .NET processes.</summary>
    public async Task<List<ProfileResult>> ProfileAsync(string target, int streams, double rate, bool publishHook, string label)
    {
        await using var running = await targets.StartAsync(target, rate, publishHook, perfMaps: Profiler.HasPerf);
        await WarmUpAsync(running.Load, streams, rate);
        await using var workers = await Workers.StartAsync(streams, running.Load, options.Dotnet);
        await workers.OpenAsync(streams, OpenLimit);
        await Task.Delay(Settle);
        var processes = running.Servers.Select(s => (Name: s.Name == "edge-proxy" ? "Edge.Proxy" : "Metrics.Api", Server: s)).ToList();
        var measuring = workers.MeasureAsync(options.ProfileSeconds + 2);
        var profiles = await Task.WhenAll(processes.Select(p => Profiler.CollectAsync(options, target, p.Name, p.Server.Id, label)));
        await measuring;
        // Last, because it forces a full GC: what the heap holds per open stream, and how much RSS a GC gives back.
        var withHeaps = new List<ProfileResult>();
        foreach (var profile in profiles.OfType<ProfileResult>())
        {
            var pid = processes.Single(p => p.Name == profile.Process).Server.Id;
            withHeaps.Add(profile with
            {
                Heap = await Profiler.HeapAsync(options, target, profile.Process, pid, label, streams),
                SymbolMap = Profiler.KeepSymbolMap(options, pid),
            });
        }

        return withHeaps;
    }

    /// <summary>The open streams each Metrics.Api replica reports (null where the server cannot say, or did not answer).</summary>
    private static async Task<int[]?> ReportedAsync(RunningTarget running)
    {
        try
        {
            return running.ReportedOpenStreams is { } count ? await count() : null;
        }
        catch (Exception ex) when (ex is HttpRequestException or InvalidOperationException or TimeoutException or FormatException)
        {
            Console.Error.WriteLine($"suite: {running.Load.Url}: could not read the server's open-stream count: {ex.Message}");
            return null;
        }
    }

    /// <summary>
    /// Up to 100 streams held for <see cref="SuiteOptions.WarmupEvents"/> events (at least the settle time): tiered compilation needs
    /// ~65 events to reach the final code of what runs once per event (sampler, fan-out loop); TLS and connections are set up too.
    /// </summary>
    private async Task WarmUpAsync(LoadOptions load, int streams, double rate)
    {
        await using (var engine = new LoadEngine(load with { FirstStream = 800_000_000, OpenTimeoutSeconds = 20 }))
        {
            var report = await engine.OpenAsync(Math.Clamp(streams, 1, 100));
            if (report.Open == 0)
            {
                throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture, $"Warm-up: no stream opened against {load.Url} ({LoadReport.Causes(report.Failures)})."));
            }

            await Task.Delay(TimeSpan.FromSeconds(Math.Max(options.SettleSeconds, options.WarmupEvents / rate)));
        }

        await Task.Delay(Settle);
    }
}
