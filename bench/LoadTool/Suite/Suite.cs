using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace LoadTool;

/// <summary>The suite's settings: scale (quick or full), targets, scenarios, paths; saved with the results. Defaults: <see cref="Commands.Usage"/>.</summary>
public sealed record SuiteOptions
{
    public static readonly string[] AllTargets = ["edge", "api", "nchan-h1", "nchan-h2", "naive"];
    public static readonly string[] AllScenarios = ["w1", "w2", "w3", "fanout", "inproc", "hop"];

    public bool Quick { get; init; }
    public string Repo { get; init; } = "";
    public string ResultsDir { get; init; } = "";
    public string DocPath { get; init; } = "";
    public string[] Targets { get; init; } = AllTargets;
    public string[] Scenarios { get; init; } = ["w1", "w2", "w3"];
    public int[] W1Streams { get; init; } = [];
    public double W1Seconds { get; init; }
    public int W2Streams { get; init; }
    public double[] W2Rates { get; init; } = [];
    public double W2Seconds { get; init; }
    public int W3Cycles { get; init; }
    public int W3Concurrency { get; init; }
    public double W3IdleSeconds { get; init; }
    public double W3LimitSeconds { get; init; }
    public int[] FanoutStreams { get; init; } = [];
    public double[] FanoutRates { get; init; } = [];
    public int FanoutEvents { get; init; }
    public int HopStreams { get; init; }
    public double HopSeconds { get; init; }
    public int HopIntervalMs { get; init; }
    public int WarmupEvents { get; init; }
    public double SettleSeconds { get; init; }
    public double OpenTimeoutSeconds { get; init; }
    public int OpenConcurrency { get; init; }
    public int StreamsPerConnection { get; init; }
    public int StreamsPerUser { get; init; }
    public string Auth { get; init; } = "bearer";
    public string ApiEnvironment { get; init; } = "Development";
    public string[] ApiEnv { get; init; } = [];
    public string[] EdgeEnv { get; init; } = [];
    public bool Profile { get; init; }
    public double ProfileSeconds { get; init; }
    public string Nginx { get; init; } = "";
    public string NchanModule { get; init; } = "";
    public string Dotnet { get; init; } = "dotnet";
    public string Configuration { get; init; } = "Release";

    public AuthMode AuthMode => Enum.Parse<AuthMode>(Auth, ignoreCase: true);

    public string Tools => Path.Combine(Repo, "bench", ".tools");

    public string Dll(string project) => Path.Combine(Repo, project, "bin", Configuration, "net10.0", Path.GetFileName(project) + ".dll");

    public static SuiteOptions FromCli(Cli cli)
    {
        var q = cli.Flag("--quick");
        var repo = Path.GetFullPath(cli.Value("--repo") ?? FindRepo(new DirectoryInfo(AppContext.BaseDirectory)));
        var options = new SuiteOptions
        {
            Quick = q,
            Repo = repo,
            ResultsDir = Path.GetFullPath(cli.Value("--results") ?? Path.Combine(repo, "bench", "results", DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture) + (q ? "-quick" : ""))),
            DocPath = Path.GetFullPath(cli.Value("--doc") ?? Path.Combine(repo, "docs", "benchmarks.md")),
            Targets = cli.Names("--targets", AllTargets),
            Scenarios = cli.Names("--scenarios", ["w1", "w2", "w3"]),
            W1Streams = cli.Ints("--w1-streams", q ? [200, 1_000] : [1_000, 5_000, 10_000, 20_000]),
            W1Seconds = cli.DoubleValue("--w1-seconds", q ? 4 : 20, 1, 600),
            W2Streams = cli.IntValue("--w2-streams", q ? 200 : 1_000, 1),
            W2Rates = cli.Doubles("--w2-rates", q ? [10, 100] : [10, 25, 50, 100, 200, 400]),
            W2Seconds = cli.DoubleValue("--w2-seconds", q ? 4 : 15, 1, 600),
            W3Cycles = cli.IntValue("--w3-cycles", q ? 1_000 : 10_000, 1),
            W3Concurrency = cli.IntValue("--w3-concurrency", q ? 50 : 200, 1, 10_000),
            W3IdleSeconds = cli.DoubleValue("--w3-idle-seconds", q ? 4 : 15, 0, 600),
            W3LimitSeconds = cli.DoubleValue("--w3-limit-seconds", q ? 12 : 240, 1, 3600),
            FanoutStreams = cli.Ints("--fanout-streams", q ? [200] : [1_000, 10_000]),
            FanoutRates = cli.Doubles("--fanout-rates", [1, 10]),
            FanoutEvents = cli.IntValue("--fanout-events", q ? 5 : 30, 1),
            HopStreams = cli.IntValue("--hop-streams", 100, 2, 5_000),
            HopSeconds = cli.DoubleValue("--hop-seconds", q ? 4 : 10, 1, 600),
            HopIntervalMs = cli.IntValue("--hop-interval-ms", 250, 10, 5_000),
            WarmupEvents = cli.IntValue("--warmup-events", q ? 5 : 70),
            SettleSeconds = cli.DoubleValue("--settle-seconds", q ? 2 : 3, 0, 60),
            OpenTimeoutSeconds = cli.DoubleValue("--open-timeout", q ? 10 : 60, 1, 600),
            OpenConcurrency = cli.IntValue("--open-concurrency", 200, 1),
            StreamsPerConnection = cli.IntValue("--streams-per-connection", 500, 1, 10_000),
            StreamsPerUser = cli.IntValue("--streams-per-user", 5, 1),
            Auth = Enum.Parse<AuthMode>(cli.Value("--auth", "bearer"), ignoreCase: true).ToString().ToLowerInvariant(),
            ApiEnvironment = cli.Value("--api-environment", "Development"),
            ApiEnv = [.. cli.All("--api-env")],
            EdgeEnv = [.. cli.All("--edge-env")],
            Profile = cli.Flag("--profile"),
            ProfileSeconds = cli.DoubleValue("--profile-seconds", q ? 4 : 10, 1, 120),
            Nginx = cli.Value("--nginx", "/usr/sbin/nginx"),
            NchanModule = cli.Value("--nchan-module", "/usr/lib/nginx/modules/ngx_nchan_module.so"),
            Dotnet = cli.Value("--dotnet", "dotnet"),
            Configuration = cli.Value("--configuration", "Release"),
        };
        var unknown = options.Targets.Except(AllTargets).Concat(options.Scenarios.Except(AllScenarios)).ToList();
        return unknown.Count == 0 ? options : throw new ArgumentException(
            $"Unknown target or scenario: {string.Join(", ", unknown)}. Targets: {string.Join(", ", AllTargets)}; scenarios: {string.Join(", ", AllScenarios)}.");
    }

    private static string FindRepo(DirectoryInfo? dir) =>
        dir is null ? Directory.GetCurrentDirectory() : File.Exists(Path.Combine(dir.FullName, "Aspire.sln")) ? dir.FullName : FindRepo(dir.Parent);
}

/// <summary>
/// <c>LoadTool suite</c>: every scenario against every target in one run, results saved after each step
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
        Directory.CreateDirectory(options.ResultsDir);
        Registry.PidFile = Path.Combine(options.ResultsDir, "pids");
        using var onTerm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, _ => Abort());
        using var onInt = PosixSignalRegistration.Create(PosixSignal.SIGINT, _ => Abort());
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
            Settings = options,
            Targets = [.. options.Targets.Select(t => Targets.Describe(t, options.AuthMode))],
            CommandLine = string.Join(' ', Environment.GetCommandLineArgs().Skip(1)),
        };
        var file = Path.Combine(options.ResultsDir, "results.json");
        Log($"results in {options.ResultsDir}");
        try
        {
            var s = new Scenarios(options, new Targets(options));
            var steps = new List<(string Scenario, string Target, int Streams, double Rate, Func<Task<ScenarioResult>> Run)>();
            bool has(string scenario) => options.Scenarios.Contains(scenario);
            steps.AddRange(from n in options.W1Streams from t in options.Targets where has("w1") select ("W1", t, n, 1.0, (Func<Task<ScenarioResult>>)(() => s.CapacityAsync("W1", t, n))));
            steps.AddRange(from r in options.W2Rates from t in options.Targets where has("w2") select ("W2", t, options.W2Streams, r, (Func<Task<ScenarioResult>>)(() => s.FanoutAsync(t, options.W2Streams, r))));
            steps.AddRange(from t in options.Targets where has("w3") select ("W3", t, options.W3Concurrency, 1.0, (Func<Task<ScenarioResult>>)(() => s.ChurnAsync(t))));
            steps.AddRange(from n in options.FanoutStreams from r in options.FanoutRates where has("fanout") select ("Fanout", "api", n, r, (Func<Task<ScenarioResult>>)(() => s.CoreFanoutAsync(n, r))));
            steps.AddRange(from n in options.FanoutStreams where has("inproc") select ("InProcess", "hub", n, 0.0, (Func<Task<ScenarioResult>>)(() => InProcess.RunAsync(n))));
            steps.AddRange(from t in Targets.HopTargets where has("hop") select ("Hop", t, options.HopStreams, 1000.0 / options.HopIntervalMs, (Func<Task<ScenarioResult>>)(() => s.CapacityAsync("Hop", t, options.HopStreams))));
            foreach (var (scenario, target, streams, rate, run) in steps)
            {
                var stopwatch = Stopwatch.StartNew();
                ScenarioResult result;
                try
                {
                    result = await run();
                }
                catch (Exception ex)
                {
                    result = new ScenarioResult { Scenario = scenario, Target = target, Streams = streams, Rate = rate, Error = ex.Message };
                    results.Errors.Add($"{scenario} {target} {streams:N0} × {rate}/s: {ex.Message}");
                }

                results.Results.Add(result);
                await SaveAsync(results, file);
                Log($"{scenario} {target,-13} {streams,6:N0} × {rate}/s: {result.Summary()} ({stopwatch.Elapsed.TotalSeconds:F0} s)");
            }

            foreach (var target in options.Profile ? options.Targets.Where(t => t is "edge" or "api") : [])
            {
                try
                {
                    Log($"profile {target}: W1 {options.W1Streams.Max():N0} streams, W2 {options.W2Streams:N0} streams at {options.W2Rates.Max()}/s");
                    results.Profiles.AddRange(await s.ProfileAsync(target, options.W1Streams.Max(), 1, publishHook: false, "w1"));
                    results.Profiles.AddRange(await s.ProfileAsync(target, options.W2Streams, options.W2Rates.Max(), publishHook: true, "w2"));
                }
                catch (Exception ex)
                {
                    results.Errors.Add($"profile {target}: {ex.Message}");
                }

                await SaveAsync(results, file);
            }
        }
        finally
        {
            await Registry.StopAllAsync();
        }

        results.FinishedAt = DateTimeOffset.Now;
        await SaveAsync(results, file);
        ReportWriter.Write(results, options.DocPath, options.ResultsDir, options.Repo);
        Log($"wrote {options.DocPath}");
        return results.Errors.Count == 0 ? 0 : 1;
    }

    /// <summary><c>LoadTool report --results DIR [--doc FILE]</c>: rewrites the document from a saved run.</summary>
    public static int Report(Cli cli)
    {
        var dir = Path.GetFullPath(cli.Value("--results") ?? throw new ArgumentException("--results DIR is required."));
        var repo = Path.GetFullPath(cli.Value("--repo") ?? Path.Combine(dir, "..", "..", ".."));
        var doc = Path.GetFullPath(cli.Value("--doc") ?? Path.Combine(repo, "docs", "benchmarks.md"));
        cli.EnsureAllUsed();
        var results = JsonSerializer.Deserialize<SuiteResults>(File.ReadAllText(Path.Combine(dir, "results.json"))) ?? throw new ArgumentException("Empty results.json.");
        ReportWriter.Write(results, doc, dir, repo);
        Console.Error.WriteLine($"wrote {doc}");
        return 0;
    }

    public static void Log(string message) => Console.Error.WriteLine($"[{DateTime.Now:HH:mm:ss}] {message}");

    private static async Task SaveAsync(SuiteResults results, string file)
    {
        await File.WriteAllTextAsync(file + ".tmp", JsonSerializer.Serialize(results, Json));
        File.Move(file + ".tmp", file, overwrite: true);
    }

    private static IEnumerable<string> RequiredFiles(SuiteOptions options)
    {
        bool has(string scenario) => options.Scenarios.Contains(scenario);
        var dotnetTargets = has("w1") || has("w2") || has("w3") ? options.Targets : [];
        if (dotnetTargets.Any(t => t is "edge" or "api") || has("fanout") || has("inproc") || has("hop"))
        {
            yield return options.Dll("Metrics.Api");
            yield return options.Dll("bench/PublishHook");
        }

        if (dotnetTargets.Contains("edge") || has("hop")) yield return options.Dll("Edge.Proxy");

        if (dotnetTargets.Contains("naive")) yield return options.Dll("bench/NaiveSse");

        if (dotnetTargets.Any(t => t.StartsWith("nchan", StringComparison.Ordinal)))
        {
            yield return options.Nginx;
            yield return options.NchanModule;
        }
    }

    private static void Abort()
    {
        Log("interrupted: stopping every process the suite started");
        Registry.StopAllAsync().GetAwaiter().GetResult();
        Environment.Exit(130);
    }
}

/// <summary>What the machine is, read from /proc, /etc/os-release and the tools themselves.</summary>
public static class Machine
{
    public static MachineInfo Collect(SuiteOptions options)
    {
        string? Run(string file, params string[] args) => Child.RunAsync(file, args, TimeSpan.FromSeconds(10)).Result is (0, var output) ? output.Trim() : null;
        string? Value(string file, string key) => File.Exists(file)
            ? File.ReadLines(file).Select(l => l.Split(':', 2)).FirstOrDefault(p => p.Length == 2 && p[0].Trim() == key)?[1].Trim() : null;
        var os = File.Exists("/etc/os-release") ? File.ReadLines("/etc/os-release").FirstOrDefault(l => l.StartsWith("PRETTY_NAME=", StringComparison.Ordinal))?[12..].Trim('"') : null;
        return new MachineInfo(
            Environment.ProcessorCount,
            Value("/proc/cpuinfo", "model name") ?? "unknown",
            (long.TryParse(Value("/proc/meminfo", "MemTotal")?.Split(' ')[0], CultureInfo.InvariantCulture, out var kib) ? kib : 0) * 1024,
            File.Exists("/proc/sys/kernel/osrelease") ? File.ReadAllText("/proc/sys/kernel/osrelease").Trim() : RuntimeInformation.OSDescription,
            os ?? RuntimeInformation.OSDescription,
            RuntimeInformation.FrameworkDescription,
            Run(options.Nginx, "-v")?.Replace("nginx version: ", "", StringComparison.Ordinal) ?? "not installed",
            Run("dpkg-query", "-W", "-f=${Version}", "libnginx-mod-nchan") ?? "unknown",
            OpenFilesLimit(),
            Run("git", "-C", options.Repo, "rev-parse", "--short", "HEAD") ?? "unknown",
            !string.IsNullOrWhiteSpace(Run("git", "-C", options.Repo, "status", "--porcelain", "--untracked-files=no")));
    }

    /// <summary>The soft RLIMIT_NOFILE this process (and so every server it starts) has.</summary>
    public static int OpenFilesLimit() =>
        File.ReadLines("/proc/self/limits").FirstOrDefault(l => l.StartsWith("Max open files", StringComparison.Ordinal))?.Split(' ', StringSplitOptions.RemoveEmptyEntries)[3] is { } soft
        && int.TryParse(soft, CultureInfo.InvariantCulture, out var value) ? value : 1024;
}
