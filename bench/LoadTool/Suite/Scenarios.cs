using System.Globalization;
using LoadTool.Load;

namespace LoadTool.Suite;

/// <summary>
/// W1 capacity, W2 fan-out, W3 churn, each against a freshly started target. Every step is bounded in time
/// (server start 60 s, opening <see cref="SuiteOptions.OpenTimeoutSeconds"/> per stream, fixed windows, churn limit).
/// </summary>
public sealed class Scenarios(SuiteOptions options, TargetFactory factory, ProcessRegistry registry)
{
    private TimeSpan Settle => TimeSpan.FromSeconds(options.SettleSeconds);

    private TimeSpan OpenLimit => TimeSpan.FromSeconds(options.OpenTimeoutSeconds + 120);

    /// <summary>
    /// W1: N streams at 1 event/s. Opened in two halves, so the memory of one more stream is measured as a slope
    /// (without one-off costs); then a measurement window.
    /// </summary>
    public async Task<ScenarioResult> CapacityAsync(string target, int streams)
    {
        await using var running = await factory.StartAsync(target, rate: 1, publishHook: false);
        var load = factory.LoadOptionsFor(running);
        await WarmUpAsync(load, streams);
        await Task.Delay(Settle);
        var idle = ProcStats.Sample(running.Pids);

        await using var workers = WorkerSet.Start(WorkerSet.WorkersFor(streams, load), load, registry, options.Dotnet);
        var half = streams / 2;
        var first = await workers.OpenAsync(half, OpenLimit);
        await Task.Delay(Settle);
        var halfSample = ProcStats.Sample(running.Pids);
        var opened = await workers.OpenAsync(streams - half, OpenLimit);
        await Task.Delay(Settle);
        var full = ProcStats.Sample(running.Pids);

        var start = ProcStats.Sample(running.Pids);
        var measured = await workers.MeasureAsync(options.W1Seconds);
        var end = ProcStats.Sample(running.Pids);
        return new ScenarioResult
        {
            Scenario = "W1",
            Target = target,
            Streams = streams,
            Rate = 1,
            Workers = workers.Count,
            Open = opened,
            Measure = measured,
            ServerIdle = idle,
            ServerHalf = halfSample,
            OpenAtHalf = first.Open,
            ServerFull = full,
            ServerWindowStart = start,
            ServerWindowEnd = end,
        };
    }

    /// <summary>W2: N streams at a high event rate (Metrics.Api publishes through the benchmark hook).</summary>
    public async Task<ScenarioResult> FanoutAsync(string target, int streams, double rate)
    {
        await using var running = await factory.StartAsync(target, rate, publishHook: true);
        var load = factory.LoadOptionsFor(running);
        await WarmUpAsync(load, streams);
        await Task.Delay(Settle);
        var idle = ProcStats.Sample(running.Pids);

        await using var workers = WorkerSet.Start(WorkerSet.WorkersFor(streams, load), load, registry, options.Dotnet);
        var opened = await workers.OpenAsync(streams, OpenLimit);
        await Task.Delay(Settle);
        var full = ProcStats.Sample(running.Pids);
        var start = ProcStats.Sample(running.Pids);
        var measured = await workers.MeasureAsync(options.W2Seconds);
        var end = ProcStats.Sample(running.Pids);
        return new ScenarioResult
        {
            Scenario = "W2",
            Target = target,
            Streams = streams,
            Rate = rate,
            Workers = workers.Count,
            Open = opened,
            Measure = measured,
            ServerIdle = idle,
            ServerFull = full,
            ServerWindowStart = start,
            ServerWindowEnd = end,
        };
    }

    /// <summary>
    /// W3: open / first frame / close cycles, then idle: does CPU go back to (about) zero, memory back down, and
    /// does the server itself count zero open streams?
    /// </summary>
    public async Task<ScenarioResult> ChurnAsync(string target)
    {
        await using var running = await factory.StartAsync(target, rate: 1, publishHook: false);
        var load = factory.LoadOptionsFor(running);
        await WarmUpAsync(load, options.W3Concurrency);
        var idle = ProcStats.Sample(running.Pids);
        await Task.Delay(Settle + TimeSpan.FromSeconds(1));
        var beforeChurn = ProcStats.Sample(running.Pids);

        await using var workers = WorkerSet.Start(WorkerSet.WorkersFor(options.W3Concurrency, load), load, registry, options.Dotnet);
        var churn = await workers.ChurnAsync(options.W3Cycles, options.W3Concurrency, options.W3LimitSeconds);
        var afterChurn = ProcStats.Sample(running.Pids);
        await Task.Delay(TimeSpan.FromSeconds(options.W3IdleSeconds / 2));
        var idleMid = ProcStats.Sample(running.Pids);
        await Task.Delay(TimeSpan.FromSeconds(options.W3IdleSeconds / 2));
        var afterIdle = ProcStats.Sample(running.Pids);
        int? reported = null;
        try
        {
            reported = await running.ReportedOpenStreams();
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or TaskCanceledException or FormatException)
        {
            Console.Error.WriteLine($"suite: {target}: could not read the server's open-stream count: {ex.Message}");
        }

        return new ScenarioResult
        {
            Scenario = "W3",
            Target = target,
            Streams = options.W3Concurrency,
            Rate = 1,
            Workers = workers.Count,
            Churn = churn,
            ServerIdle = idle,
            ServerBeforeChurn = beforeChurn,
            ServerWindowStart = beforeChurn,
            ServerWindowEnd = afterChurn,
            ServerAfterChurn = afterChurn,
            ServerIdleMid = idleMid,
            ServerAfterIdle = afterIdle,
            ServerReportedOpenAfterIdle = reported,
        };
    }

    /// <summary>Runs a target under the W1 load of <paramref name="streams"/> (or W2 at <paramref name="rate"/>) and records dotnet-trace profiles of its .NET processes.</summary>
    public async Task<List<ProfileResult>> ProfileAsync(string target, int streams, double rate, bool publishHook, string label)
    {
        factory.PerfMaps = Profiler.HasPerf;
        RunningTarget started;
        try
        {
            started = await factory.StartAsync(target, rate, publishHook);
        }
        finally
        {
            factory.PerfMaps = false;
        }

        await using var running = started;
        var load = factory.LoadOptionsFor(running);
        await WarmUpAsync(load, streams);
        await using var workers = WorkerSet.Start(WorkerSet.WorkersFor(streams, load), load, registry, options.Dotnet);
        await workers.OpenAsync(streams, OpenLimit);
        // Long enough for tiered compilation to finish: the profile should show the steady state, not the JIT.
        await Task.Delay(Settle + TimeSpan.FromSeconds(options.Quick ? 4 : 8));
        var processes = new List<(string Name, ServerProcess Server)>();
        if (running.Api is { } api)
        {
            processes.Add(("Metrics.Api", api));
        }

        if (running.Edge is { } edge)
        {
            processes.Add(("Edge.Proxy", edge));
        }

        var measuring = workers.MeasureAsync(options.ProfileSeconds + 2);
        var profiles = await Task.WhenAll(processes.Select(p => Profiler.CollectAsync(options, registry, target, p.Name, p.Server.Pid, label)));
        await measuring;

        // Last, because it forces a full GC: what the heap holds per open stream, and how much RSS a GC gives back.
        var withHeaps = new List<ProfileResult>();
        foreach (var profile in profiles.OfType<ProfileResult>())
        {
            var pid = processes.Single(p => p.Name == profile.Process).Server.Pid;
            withHeaps.Add(profile with { Heap = await Profiler.HeapAsync(options, registry, target, profile.Process, pid, label, streams) });
        }

        foreach (var (_, server) in processes)
        {
            // The perf maps the services wrote for this pass (perf report has read them by now).
            File.Delete($"/tmp/perf-{server.Pid}.map");
            File.Delete($"/tmp/perfinfo-{server.Pid}.map");
        }

        return withHeaps;
    }

    /// <summary>
    /// Up to 100 streams held for a few seconds (3 s quick, 6 s full), then closed: the JIT's tier-up of the streaming
    /// path, TLS and connection set-up happen here and not inside a measurement window (servers run for hours).
    /// </summary>
    private async Task WarmUpAsync(LoadOptions load, int streams)
    {
        await using var engine = new LoadEngine(load with { FirstStream = 800_000_000, OpenTimeout = TimeSpan.FromSeconds(20) });
        var report = await engine.OpenAsync(Math.Clamp(streams, 1, 100));
        if (report.Open == 0)
        {
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                $"Warm-up: no stream opened against {load.Url} ({Commands.Causes(report.Failures)})."));
        }

        await Task.Delay(TimeSpan.FromSeconds(options.Quick ? 3 : 6));
    }
}
