using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace LoadTool;

/// <summary>
/// The suite's settings: scale (quick or full), targets, scenarios, paths, saved with the results. Each one reads its
/// option from the command line while <see cref="FromCli"/> builds them; read back from results.json, they are the
/// saved values. Defaults: <see cref="Commands.Usage"/>.
/// </summary>
public sealed record SuiteOptions
{
    public static readonly string[] AllTargets = ["edge", "api", "nchan-h1", "nchan-h2", "naive"]; // the default; edge-redis on request
    public static readonly string[] KnownTargets = [.. AllTargets, "edge-redis"];
    public static readonly string[] AllScenarios = ["w1", "w2", "w3", "fanout", "inproc", "hop"];
    [ThreadStatic]
    private static Cli? t_cli;
    public bool Quick { get; init; } = Q;
    public string Repo { get; init; } = RepoPath;
    public string ResultsDir { get; init; } = Path.GetFullPath(C.Value("--results") ?? Path.Combine(RepoPath, "bench", "results", DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture) + (Q ? "-quick" : "")));
    public string DocPath { get; init; } = Path.GetFullPath(C.Value("--doc") ?? Path.Combine(RepoPath, "docs", "benchmarks.md"));
    public string[] Targets { get; init; } = C.Names("--targets", AllTargets);
    public string[] Scenarios { get; init; } = C.Names("--scenarios", ["w1", "w2", "w3"]);
    public int[] W1Streams { get; init; } = C.Ints("--w1-streams", Q ? [200, 1_000] : [1_000, 5_000, 10_000, 20_000]);
    public int RedisW1Streams { get; init; } = C.IntValue("--redis-w1-streams", Q ? 2_000 : 20_000, 2); // edge-redis's W1 size: twice the edge size it is compared with
    public double W1Seconds { get; init; } = C.DoubleValue("--w1-seconds", Q ? 4 : 20, 1, 600);
    public int W2Streams { get; init; } = C.IntValue("--w2-streams", Q ? 200 : 1_000, 1);
    public double[] W2Rates { get; init; } = C.Doubles("--w2-rates", Q ? [10, 100] : [10, 25, 50, 100, 200, 400]);
    public double W2Seconds { get; init; } = C.DoubleValue("--w2-seconds", Q ? 4 : 15, 1, 600);
    public int W3Cycles { get; init; } = C.IntValue("--w3-cycles", Q ? 1_000 : 10_000, 1);
    public int W3Concurrency { get; init; } = C.IntValue("--w3-concurrency", Q ? 50 : 200, 1, 10_000);
    public double W3IdleSeconds { get; init; } = C.DoubleValue("--w3-idle-seconds", Q ? 4 : 15, 0, 600);
    public double W3LimitSeconds { get; init; } = C.DoubleValue("--w3-limit-seconds", Q ? 12 : 240, 1, 3600);
    public int[] FanoutStreams { get; init; } = C.Ints("--fanout-streams", Q ? [200] : [1_000, 10_000]);
    public double[] FanoutRates { get; init; } = C.Doubles("--fanout-rates", [1, 10]);
    public int FanoutEvents { get; init; } = C.IntValue("--fanout-events", Q ? 5 : 30, 1);
    public int HopStreams { get; init; } = C.IntValue("--hop-streams", 100, 2, 5_000);
    public double HopSeconds { get; init; } = C.DoubleValue("--hop-seconds", Q ? 4 : 10, 1, 600);
    public int HopIntervalMs { get; init; } = C.IntValue("--hop-interval-ms", 250, 10, 5_000);
    public int WarmupEvents { get; init; } = C.IntValue("--warmup-events", Q ? 5 : 70);
    public double SettleSeconds { get; init; } = C.DoubleValue("--settle-seconds", Q ? 2 : 3, 0, 60);
    public double OpenTimeoutSeconds { get; init; } = C.DoubleValue("--open-timeout", Q ? 10 : 60, 1, 600);
    public int OpenConcurrency { get; init; } = C.IntValue("--open-concurrency", 200, 1);
    public int StreamsPerConnection { get; init; } = C.IntValue("--streams-per-connection", 500, 1, 10_000);
    public int StreamsPerUser { get; init; } = C.IntValue("--streams-per-user", 5, 1);
    public string Auth { get; init; } = Enum.Parse<AuthMode>(C.Value("--auth", "bearer"), ignoreCase: true).ToString().ToLowerInvariant();
    public string ApiEnvironment { get; init; } = C.Value("--api-environment", "Development");
    public string[] ApiEnv { get; init; } = [.. C.All("--api-env")];
    public string[] EdgeEnv { get; init; } = [.. C.All("--edge-env")];
    public bool Profile { get; init; } = C.Flag("--profile");
    public double ProfileSeconds { get; init; } = C.DoubleValue("--profile-seconds", Q ? 4 : 10, 1, 120);
    public string Nginx { get; init; } = C.Value("--nginx", "/usr/sbin/nginx");
    public string NchanModule { get; init; } = C.Value("--nchan-module", "/usr/lib/nginx/modules/ngx_nchan_module.so");
    public string RedisServer { get; init; } = C.Value("--redis-server", "/usr/bin/redis-server");
    public string Dotnet { get; init; } = C.Value("--dotnet", "dotnet");
    public string Configuration { get; init; } = C.Value("--configuration", "Release");
    public AuthMode AuthMode => Enum.Parse<AuthMode>(Auth, ignoreCase: true);
    public string Tools => Path.Combine(Repo, "bench", ".tools");
    private static Cli C => t_cli ?? new Cli([]);
    private static bool Q => C.Flag("--quick");
    private static string RepoPath => Path.GetFullPath(C.Value("--repo") ?? FindRepo(new DirectoryInfo(AppContext.BaseDirectory)));
    public string Dll(string project) => Path.Combine(Repo, project, "bin", Configuration, "net10.0", Path.GetFileName(project) + ".dll");

    public static SuiteOptions FromCli(Cli cli)
    {
        t_cli = cli;
        try
        {
            var options = new SuiteOptions();
            var unknown = options.Targets.Except(KnownTargets).Concat(options.Scenarios.Except(AllScenarios)).ToList();
            return unknown.Count == 0 ? options : throw new ArgumentException(
                $"Unknown target or scenario: {string.Join(", ", unknown)}. Targets: {string.Join(", ", KnownTargets)}; scenarios: {string.Join(", ", AllScenarios)}.");
        }
        finally
        {
            t_cli = null;
        }
    }

    private static string FindRepo(DirectoryInfo? dir) =>
        dir is null ? Directory.GetCurrentDirectory() : File.Exists(Path.Combine(dir.FullName, "Aspire.sln")) ? dir.FullName : FindRepo(dir.Parent);
}

/// <summary>
/// <c>LoadTool suite</c>: every scenario against every target, results.json saved after each step, then docs/benchmarks.md; every
/// process it started is stopped at the end, on failure and on SIGINT/SIGTERM (bench/run.sh also kills what its pid file lists).
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
            Quick = options.Quick, StartedAt = DateTimeOffset.Now, Machine = Machine.Collect(options), Settings = options,
            Targets = [.. options.Targets.Select(t => Targets.Describe(t, options.AuthMode))], CommandLine = string.Join(' ', Environment.GetCommandLineArgs().Skip(1)),
        };
        var file = Path.Combine(options.ResultsDir, "results.json");
        Log($"results in {options.ResultsDir}");
        try
        {
            var s = new Scenarios(options, new Targets(options));
            var steps = new List<(string Scenario, string Target, int Streams, double Rate, Func<Task<ScenarioResult>> Run)>();
            bool has(string scenario) => options.Scenarios.Contains(scenario);
            // edge-redis runs W1 only, at its own size (twice the edge's it is compared with).
            steps.AddRange(from t in options.Targets from n in t == "edge-redis" ? [options.RedisW1Streams] : options.W1Streams where has("w1") orderby n select ("W1", t, n, 1.0, (Func<Task<ScenarioResult>>)(() => s.CapacityAsync("W1", t, n))));
            var targets = options.Targets.Where(t => t != "edge-redis").ToList();
            steps.AddRange(from r in options.W2Rates from t in targets where has("w2") select ("W2", t, options.W2Streams, r, (Func<Task<ScenarioResult>>)(() => s.CapacityAsync("W2", t, options.W2Streams, r))));
            steps.AddRange(from t in targets where has("w3") select ("W3", t, options.W3Concurrency, 1.0, (Func<Task<ScenarioResult>>)(() => s.ChurnAsync(t))));
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

            foreach (var (target, streams, rate, w) in from t in options.Targets.Where(t => options.Profile && t is "edge" or "api")
                     from p in new[] { (ProfiledW1Streams(options.W1Streams), 1.0, "w1"), (options.W2Streams, options.W2Rates.Max(), "w2") } select (t, p.Item1, p.Item2, p.Item3))
            {
                try
                {
                    Log($"profile {target}: {w} {streams:N0} streams at {rate}/s");
                    results.Profiles.AddRange(await s.ProfileAsync(target, streams, rate, publishHook: w == "w2", w));
                }
                catch (Exception ex)
                {
                    results.Errors.Add($"profile {target} {w}: {ex.Message}");
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

    // Issue #15 asks for the profiles at 10k × 1/s: that size when W1 runs it, else the largest.
    private static int ProfiledW1Streams(IReadOnlyList<int> sizes) => sizes.Contains(10_000) ? 10_000 : sizes.Max();

    public static void Log(string message) => Console.Error.WriteLine($"[{DateTime.Now:HH:mm:ss}] {message}");

    private static async Task SaveAsync(SuiteResults results, string file)
    {
        await File.WriteAllTextAsync(file + ".tmp", JsonSerializer.Serialize(results, Json));
        File.Move(file + ".tmp", file, overwrite: true);
    }

    /// <summary>What the run needs built or installed (bench/run.sh builds every project and installs nginx + nchan).</summary>
    private static IEnumerable<string> RequiredFiles(SuiteOptions options) =>
        new[] { options.Dll("Metrics.Api"), options.Dll("Edge.Proxy"), options.Dll("bench/PublishHook"), options.Dll("bench/NaiveSse") }
            .Concat(options.Targets.Any(t => t.StartsWith("nchan", StringComparison.Ordinal)) ? [options.Nginx, options.NchanModule] : [])
            .Concat(options.Targets.Contains("edge-redis") ? [options.RedisServer] : []);

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
        string? Run(string file, params string[] args) => Registry.RunAsync(file, args, TimeSpan.FromSeconds(10)).Result is (0, var output) ? output.Trim() : null;
        string? Value(string file, string key) => File.Exists(file)
            ? File.ReadLines(file).Select(l => l.Split(':', 2)).FirstOrDefault(p => p.Length == 2 && p[0].Trim() == key)?[1].Trim() : null;
        var os = File.Exists("/etc/os-release") ? File.ReadLines("/etc/os-release").FirstOrDefault(l => l.StartsWith("PRETTY_NAME=", StringComparison.Ordinal))?[12..].Trim('"') : null;
        return new MachineInfo(Environment.ProcessorCount, Value("/proc/cpuinfo", "model name") ?? "unknown",
            (long.TryParse(Value("/proc/meminfo", "MemTotal")?.Split(' ')[0], CultureInfo.InvariantCulture, out var kib) ? kib : 0) * 1024,
            File.Exists("/proc/sys/kernel/osrelease") ? File.ReadAllText("/proc/sys/kernel/osrelease").Trim() : RuntimeInformation.OSDescription, os ?? RuntimeInformation.OSDescription,
            RuntimeInformation.FrameworkDescription, Run(options.Nginx, "-v")?.Replace("nginx version: ", "", StringComparison.Ordinal) ?? "not installed",
            Run("dpkg-query", "-W", "-f=${Version}", "libnginx-mod-nchan") ?? "unknown", OpenFilesLimit(), Run("git", "-C", options.Repo, "rev-parse", "--short", "HEAD") ?? "unknown",
            !string.IsNullOrWhiteSpace(Run("git", "-C", options.Repo, "status", "--porcelain", "--untracked-files=no")));
    }

    /// <summary>The soft RLIMIT_NOFILE this process (and so every server it starts) has.</summary>
    public static int OpenFilesLimit() =>
        File.ReadLines("/proc/self/limits").FirstOrDefault(l => l.StartsWith("Max open files", StringComparison.Ordinal))?.Split(' ', StringSplitOptions.RemoveEmptyEntries)[3] is { } soft
        && int.TryParse(soft, CultureInfo.InvariantCulture, out var value) ? value : 1024;
}
