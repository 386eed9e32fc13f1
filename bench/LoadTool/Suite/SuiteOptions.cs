using System.Globalization;
using LoadTool.Load;

namespace LoadTool.Suite;

/// <summary>The suite's settings: scale (quick or full), targets, scenarios, paths.</summary>
public sealed record SuiteOptions
{
    public static readonly string[] AllTargets = ["edge", "api", "nchan-h1", "nchan-h2", "naive"];

    public bool Quick { get; init; }

    public required string Repo { get; init; }

    public required string ResultsDir { get; init; }

    public required string DocPath { get; init; }

    public string[] Targets { get; init; } = AllTargets;

    public string[] Scenarios { get; init; } = ["w1", "w2", "w3"];

    public int[] W1Streams { get; init; } = [1_000, 5_000, 10_000, 20_000];

    public double W1Seconds { get; init; } = 20;

    public int W2Streams { get; init; } = 1_000;

    /// <summary>10-100/s is the range; 200 and 400 look for the point where a server stops keeping up.</summary>
    public double[] W2Rates { get; init; } = [10, 25, 50, 100, 200, 400];

    public double W2Seconds { get; init; } = 15;

    public int W3Cycles { get; init; } = 10_000;

    public int W3Concurrency { get; init; } = 200;

    public double W3IdleSeconds { get; init; } = 15;

    public double W3LimitSeconds { get; init; } = 240;

    public double SettleSeconds { get; init; } = 3;

    public double OpenTimeoutSeconds { get; init; } = 60;

    public int OpenConcurrency { get; init; } = 200;

    public int StreamsPerConnection { get; init; } = 500;

    public int StreamsPerUser { get; init; } = 5;

    public AuthMode Auth { get; init; } = AuthMode.Bearer;

    public string ApiEnvironment { get; init; } = "Development";

    public IReadOnlyList<string> ApiEnv { get; init; } = [];

    public IReadOnlyList<string> EdgeEnv { get; init; } = [];

    public bool Profile { get; init; }

    public double ProfileSeconds { get; init; } = 10;

    public string Nginx { get; init; } = "/usr/sbin/nginx";

    public string NchanModule { get; init; } = "/usr/lib/nginx/modules/ngx_nchan_module.so";

    public string Dotnet { get; init; } = "dotnet";

    public string Configuration { get; init; } = "Release";

    public string ApiDll => Path.Combine(Repo, "Metrics.Api", "bin", Configuration, "net10.0", "Metrics.Api.dll");

    public string EdgeDll => Path.Combine(Repo, "Edge.Proxy", "bin", Configuration, "net10.0", "Edge.Proxy.dll");

    public string NaiveDll => Path.Combine(Repo, "bench", "NaiveSse", "bin", Configuration, "net10.0", "NaiveSse.dll");

    public string PublishHookDll => Path.Combine(Repo, "bench", "PublishHook", "bin", Configuration, "net10.0", "PublishHook.dll");

    public string Tools => Path.Combine(Repo, "bench", ".tools");

    public static SuiteOptions FromCli(Cli cli)
    {
        var quick = cli.Flag("--quick");
        var repo = Path.GetFullPath(cli.Value("--repo") ?? FindRepo());
        var stamp = DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture) + (quick ? "-quick" : "");
        var defaults = quick ? QuickDefaults(repo) : new SuiteOptions { Repo = repo, ResultsDir = "", DocPath = "" };
        return defaults with
        {
            Quick = quick,
            Repo = repo,
            ResultsDir = Path.GetFullPath(cli.Value("--results") ?? Path.Combine(repo, "bench", "results", stamp)),
            DocPath = Path.GetFullPath(cli.Value("--doc") ?? Path.Combine(repo, "docs", "benchmarks.md")),
            Targets = cli.Value("--targets")?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? defaults.Targets,
            Scenarios = cli.Value("--scenarios")?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? defaults.Scenarios,
            W1Streams = cli.Ints("--w1-streams", defaults.W1Streams),
            W1Seconds = cli.DoubleValue("--w1-seconds", defaults.W1Seconds, 1, 600),
            W2Streams = cli.IntValue("--w2-streams", defaults.W2Streams, 1, 1_000_000),
            W2Rates = cli.Doubles("--w2-rates", defaults.W2Rates),
            W2Seconds = cli.DoubleValue("--w2-seconds", defaults.W2Seconds, 1, 600),
            W3Cycles = cli.IntValue("--w3-cycles", defaults.W3Cycles, 1, 10_000_000),
            W3Concurrency = cli.IntValue("--w3-concurrency", defaults.W3Concurrency, 1, 10_000),
            W3IdleSeconds = cli.DoubleValue("--w3-idle-seconds", defaults.W3IdleSeconds, 0, 600),
            W3LimitSeconds = cli.DoubleValue("--w3-limit-seconds", defaults.W3LimitSeconds, 1, 3600),
            SettleSeconds = cli.DoubleValue("--settle-seconds", defaults.SettleSeconds, 0, 60),
            OpenTimeoutSeconds = cli.DoubleValue("--open-timeout", defaults.OpenTimeoutSeconds, 1, 600),
            OpenConcurrency = cli.IntValue("--open-concurrency", defaults.OpenConcurrency, 1, 10_000),
            StreamsPerConnection = cli.IntValue("--streams-per-connection", defaults.StreamsPerConnection, 1, 10_000),
            StreamsPerUser = cli.IntValue("--streams-per-user", defaults.StreamsPerUser, 1, 1_000_000),
            Auth = Enum.Parse<AuthMode>(cli.Value("--auth", "bearer"), ignoreCase: true),
            ApiEnvironment = cli.Value("--api-environment", defaults.ApiEnvironment),
            ApiEnv = cli.All("--api-env"),
            EdgeEnv = cli.All("--edge-env"),
            Profile = cli.Flag("--profile"),
            ProfileSeconds = cli.DoubleValue("--profile-seconds", defaults.ProfileSeconds, 1, 120),
            Nginx = cli.Value("--nginx", defaults.Nginx),
            NchanModule = cli.Value("--nchan-module", defaults.NchanModule),
            Dotnet = cli.Value("--dotnet", defaults.Dotnet),
            Configuration = cli.Value("--configuration", defaults.Configuration),
        };
    }

    /// <summary>
    /// Validation scale: at most 1,000 streams and a few seconds per scenario, so the suite can run on a machine
    /// others are using (the full scale is for a machine of its own).
    /// </summary>
    private static SuiteOptions QuickDefaults(string repo) => new()
    {
        Repo = repo,
        ResultsDir = "",
        DocPath = "",
        W1Streams = [200, 1_000],
        W1Seconds = 4,
        W2Streams = 200,
        W2Rates = [10, 100],
        W2Seconds = 4,
        W3Cycles = 1_000,
        W3Concurrency = 50,
        W3IdleSeconds = 4,
        W3LimitSeconds = 12,
        SettleSeconds = 2,
        OpenTimeoutSeconds = 10,
        ProfileSeconds = 4,
    };

    private static string FindRepo()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Aspire.sln")))
            {
                return dir.FullName;
            }
        }

        return Directory.GetCurrentDirectory();
    }

    public static IEnumerable<KeyValuePair<string, string?>> ParseEnv(IEnumerable<string> pairs)
    {
        foreach (var pair in pairs)
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                throw new ArgumentException($"Expected KEY=VALUE, got '{pair}'.");
            }

            yield return new(pair[..eq], pair[(eq + 1)..]);
        }
    }
}
