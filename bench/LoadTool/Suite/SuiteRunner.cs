using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace LoadTool.Suite;

/// <summary>
/// <c>LoadTool suite</c>: every scenario against every target in one run, results saved after each scenario
/// (results.json), then docs/benchmarks.md. Every process it starts is stopped at the end, on failure and on
/// SIGINT/SIGTERM; bench/run.sh also kills whatever is left in the run's pid file.
/// </summary>
public static class SuiteRunner
{
    public static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    public static async Task<int> RunAsync(Cli cli)
    {
        var options = SuiteOptions.FromCli(cli);
        cli.EnsureAllUsed();
        foreach (var target in options.Targets)
        {
            TargetFactory.Describe(target, options.Auth); // unknown names fail here, before anything starts
        }

        Directory.CreateDirectory(options.ResultsDir);
        var registry = new ProcessRegistry(Path.Combine(options.ResultsDir, "pids"));
        using var onTerm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, _ => Abort(registry));
        using var onInt = PosixSignalRegistration.Create(PosixSignal.SIGINT, _ => Abort(registry));

        var missing = RequiredFiles(options).Where(f => !File.Exists(f)).ToList();
        if (missing.Count > 0)
        {
            Console.Error.WriteLine("suite: missing (build in Release / install nginx + nchan first, or use bench/run.sh):\n  " + string.Join("\n  ", missing));
            return 2;
        }

        var results = new SuiteResults
        {
            Quick = options.Quick,
            StartedAt = DateTimeOffset.Now,
            Machine = Machine.Collect(options),
            Settings = new SuiteSettings(
                options.W1Streams, 1, options.W1Seconds, options.W2Streams, options.W2Rates, options.W2Seconds,
                options.W3Cycles, options.W3Concurrency, options.W3IdleSeconds, options.SettleSeconds,
                options.StreamsPerConnection, options.StreamsPerUser, options.Auth.ToString().ToLowerInvariant(),
                options.ApiEnvironment, [.. options.ApiEnv], [.. options.EdgeEnv]),
            Targets = [.. options.Targets.Select(t => TargetFactory.Describe(t, options.Auth))],
            CommandLine = string.Join(' ', Environment.GetCommandLineArgs().Skip(1)),
        };
        var resultsFile = Path.Combine(options.ResultsDir, "results.json");
        Log($"results in {options.ResultsDir}");

        try
        {
            var factory = new TargetFactory(options, registry);
            var scenarios = new Scenarios(options, factory, registry);

            if (options.Scenarios.Contains("w1"))
            {
                foreach (var streams in options.W1Streams)
                {
                    foreach (var target in options.Targets)
                    {
                        await RunOneAsync(results, resultsFile, "W1", target, streams, 1, () => scenarios.CapacityAsync(target, streams));
                    }
                }
            }

            if (options.Scenarios.Contains("w2"))
            {
                foreach (var rate in options.W2Rates)
                {
                    foreach (var target in options.Targets)
                    {
                        await RunOneAsync(results, resultsFile, "W2", target, options.W2Streams, rate, () => scenarios.FanoutAsync(target, options.W2Streams, rate));
                    }
                }
            }

            if (options.Scenarios.Contains("w3"))
            {
                foreach (var target in options.Targets)
                {
                    await RunOneAsync(results, resultsFile, "W3", target, options.W3Concurrency, 1, () => scenarios.ChurnAsync(target));
                }
            }

            if (options.Profile)
            {
                foreach (var target in options.Targets.Where(t => t is "edge" or "api"))
                {
                    try
                    {
                        Log($"profile {target}: W1 {options.W1Streams.Max():N0} streams");
                        results.Profiles.AddRange(await scenarios.ProfileAsync(target, options.W1Streams.Max(), 1, publishHook: false, "w1"));
                        Log($"profile {target}: W2 {options.W2Streams:N0} streams at {options.W2Rates.Max()}/s");
                        results.Profiles.AddRange(await scenarios.ProfileAsync(target, options.W2Streams, options.W2Rates.Max(), publishHook: true, "w2"));
                    }
                    catch (Exception ex)
                    {
                        results.Errors.Add($"profile {target}: {ex.Message}");
                        Log($"profile {target} failed: {ex.Message}");
                    }

                    await SaveAsync(results, resultsFile);
                }
            }
        }
        finally
        {
            await registry.StopAllAsync();
        }

        results.FinishedAt = DateTimeOffset.Now;
        await SaveAsync(results, resultsFile);
        ReportWriter.Write(results, options.DocPath, options.ResultsDir, options.Repo);
        Log($"wrote {options.DocPath}");
        return results.Errors.Count == 0 ? 0 : 1;
    }

    public static void Log(string message) =>
        Console.Error.WriteLine($"[{DateTime.Now:HH:mm:ss}] {message}");

    private static async Task RunOneAsync(SuiteResults results, string file, string scenario, string target, int streams, double rate, Func<Task<ScenarioResult>> run)
    {
        var label = scenario switch
        {
            "W1" => $"{scenario} {target,-9} {streams,6:N0} streams x 1/s",
            "W2" => $"{scenario} {target,-9} {streams,6:N0} streams x {rate}/s",
            _ => $"{scenario} {target,-9} churn, {streams} at a time",
        };
        var stopwatch = Stopwatch.StartNew();
        ScenarioResult result;
        try
        {
            result = await run();
        }
        catch (Exception ex)
        {
            result = new ScenarioResult { Scenario = scenario, Target = target, Streams = streams, Rate = rate, Error = ex.Message };
            results.Errors.Add($"{label}: {ex.Message}");
        }

        results.Results.Add(result);
        await SaveAsync(results, file);
        Log($"{label}: {Summary(result)} ({stopwatch.Elapsed.TotalSeconds:F0} s)");
    }

    private static string Summary(ScenarioResult r)
    {
        var c = CultureInfo.InvariantCulture;
        if (r.Error is not null)
        {
            return "ERROR " + r.Error.Split('\n')[0];
        }

        if (r.Churn is { } churn)
        {
            return string.Create(c, $"{churn.Completed:N0}/{churn.Requested:N0} cycles in {churn.Seconds:F1} s, failures {Commands.Causes(churn.Failures)}, open after idle {r.ServerReportedOpenAfterIdle?.ToString(c) ?? "n/a"}");
        }

        return string.Create(c,
            $"open {r.Open?.Open:N0}/{r.Streams:N0}, {r.EventsPerSecond:N0} ev/s, p50 {r.LatencyP50Ms:F2} ms, p99 {r.LatencyP99Ms:F2} ms, server {r.ServerCores:F2} cores, client {r.ClientCores:F2}, others {r.OtherCores:F2}, RSS/stream {r.RssPerStreamTotalBytes / 1024:F1} KiB");
    }

    private static async Task SaveAsync(SuiteResults results, string file)
    {
        var temp = file + ".tmp";
        await File.WriteAllTextAsync(temp, JsonSerializer.Serialize(results, Json));
        File.Move(temp, file, overwrite: true);
    }

    private static IEnumerable<string> RequiredFiles(SuiteOptions options)
    {
        if (options.Targets.Any(t => t is "edge" or "api"))
        {
            yield return options.ApiDll;
            if (options.Scenarios.Contains("w2") || options.Profile)
            {
                yield return options.PublishHookDll;
            }
        }

        if (options.Targets.Contains("edge"))
        {
            yield return options.EdgeDll;
        }

        if (options.Targets.Contains("naive"))
        {
            yield return options.NaiveDll;
        }

        if (options.Targets.Any(t => t.StartsWith("nchan", StringComparison.Ordinal)))
        {
            yield return options.Nginx;
            yield return options.NchanModule;
        }
    }

    private static void Abort(ProcessRegistry registry)
    {
        Log("interrupted: stopping every process the suite started");
        registry.StopAllAsync().GetAwaiter().GetResult();
        Environment.Exit(130);
    }
}
