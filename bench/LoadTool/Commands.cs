using System.Globalization;
using System.Text.Json;
using LoadTool.Load;

namespace LoadTool;

/// <summary>The standalone commands: <c>load</c>, <c>churn</c>, <c>token</c>.</summary>
internal static class Commands
{
    public static readonly JsonSerializerOptions Json = new() { WriteIndented = false };

    public static async Task<int> LoadAsync(Cli cli)
    {
        var options = LoadOptions.FromCli(cli);
        var streams = cli.IntValue("--streams", 1000, 1, 1_000_000);
        var seconds = cli.DoubleValue("--seconds", 10, 1, 3600);
        var pids = Pids(cli);
        var jsonPath = cli.Value("--json");
        cli.EnsureAllUsed();

        await using var engine = new LoadEngine(options);
        var before = ProcStats.Sample(pids);
        Console.Error.WriteLine($"opening {streams:N0} streams to {options.Url} (HTTP/{options.HttpVersion}) ...");
        var opened = await engine.OpenAsync(streams);
        Console.Error.WriteLine($"open: {opened.Open:N0} of {opened.Attempted:N0} in {opened.Seconds:F1} s; measuring {seconds} s ...");
        var start = ProcStats.Sample(pids);
        var measured = await engine.MeasureAsync(TimeSpan.FromSeconds(seconds), CancellationToken.None);
        var end = ProcStats.Sample(pids);

        var latency = Histogram.FromSparse(measured.LatencyMicroseconds);
        var ttff = Histogram.FromSparse(opened.TimeToFirstFrameMicroseconds);
        var window = (end.At - start.At).TotalSeconds;
        var c = CultureInfo.InvariantCulture;
        Console.WriteLine(string.Create(c, $"url                 {options.Url} (HTTP/{options.HttpVersion}, auth {options.Auth})"));
        Console.WriteLine(string.Create(c, $"streams             {opened.Open:N0} open of {opened.Attempted:N0} over {opened.Connections:N0} connections; {measured.OpenAtEnd:N0} still open after the window"));
        Console.WriteLine(string.Create(c, $"failures            {Causes(opened.Failures)}; drops {Causes(measured.Drops)}"));
        Console.WriteLine(string.Create(c, $"first frame         p50 {ttff.Quantile(0.5) / 1000:F1} ms, p99 {ttff.Quantile(0.99) / 1000:F1} ms, max {ttff.Max / 1000.0:F1} ms"));
        Console.WriteLine(string.Create(c, $"latency             p50 {latency.Quantile(0.5) / 1000:F2} ms, p99 {latency.Quantile(0.99) / 1000:F2} ms, max {latency.Max / 1000.0:F2} ms ({latency.Count:N0} timed events)"));
        Console.WriteLine(string.Create(c, $"delivered           {measured.Events / measured.WindowSeconds:N0} events/s ({measured.Events:N0} in {measured.WindowSeconds:F1} s, {(measured.Events == 0 ? 0 : measured.DataBytes / measured.Events)} data bytes each)"));
        Console.WriteLine(string.Create(c, $"client              {measured.ClientCpuSeconds / measured.WindowSeconds:F2} cores, RSS {measured.ClientRssBytes / 1048576.0:F0} MiB"));
        if (pids.Count > 0)
        {
            Console.WriteLine(string.Create(c, $"server ({end.Processes} proc)   {(end.CpuSeconds - start.CpuSeconds) / window:F2} cores; RSS {before.RssBytes / 1048576.0:F1} -> {end.RssBytes / 1048576.0:F1} MiB ({(end.RssBytes - before.RssBytes) / 1024.0 / Math.Max(1, opened.Open):F1} KiB per open stream)"));
        }

        if (jsonPath is not null)
        {
            await File.WriteAllTextAsync(jsonPath, JsonSerializer.Serialize(new { opened, measured, serverBefore = before, serverStart = start, serverEnd = end }, Json));
        }

        return opened.Open == streams ? 0 : 1;
    }

    public static async Task<int> ChurnAsync(Cli cli)
    {
        var options = LoadOptions.FromCli(cli);
        var cycles = cli.IntValue("--cycles", 10_000, 1, 10_000_000);
        var concurrency = cli.IntValue("--concurrency", 100, 1, 10_000);
        var limit = TimeSpan.FromSeconds(cli.DoubleValue("--limit-seconds", 120, 1, 3600));
        var idle = TimeSpan.FromSeconds(cli.DoubleValue("--idle-seconds", 10, 0, 3600));
        var pids = Pids(cli);
        var jsonPath = cli.Value("--json");
        cli.EnsureAllUsed();

        var before = ProcStats.Sample(pids);
        ChurnReport churn;
        await using (var engine = new LoadEngine(options))
        {
            churn = await engine.ChurnAsync(cycles, concurrency, limit);
        }

        var afterChurn = ProcStats.Sample(pids);
        await Task.Delay(idle);
        var afterIdle = ProcStats.Sample(pids);
        var c = CultureInfo.InvariantCulture;
        var ttff = Histogram.FromSparse(churn.TimeToFirstFrameMicroseconds);
        Console.WriteLine(string.Create(c, $"cycles              {churn.Completed:N0} completed of {churn.Requested:N0} in {churn.Seconds:F1} s ({churn.Completed / churn.Seconds:N0}/s){(churn.TimedOut ? " - time limit hit" : "")}"));
        Console.WriteLine(string.Create(c, $"failures            {Causes(churn.Failures)}"));
        Console.WriteLine(string.Create(c, $"first frame         p50 {ttff.Quantile(0.5) / 1000:F1} ms, p99 {ttff.Quantile(0.99) / 1000:F1} ms"));
        Console.WriteLine(string.Create(c, $"client              {churn.ClientCpuSeconds / churn.Seconds:F2} cores, {churn.Connections:N0} connections"));
        if (pids.Count > 0)
        {
            Console.WriteLine(string.Create(c, $"server RSS          {before.RssBytes / 1048576.0:F1} MiB before, {afterChurn.RssBytes / 1048576.0:F1} after churn, {afterIdle.RssBytes / 1048576.0:F1} after {idle.TotalSeconds:F0} s idle"));
            Console.WriteLine(string.Create(c, $"server CPU          {(afterChurn.CpuSeconds - before.CpuSeconds) / churn.Seconds:F2} cores during churn, {(afterIdle.CpuSeconds - afterChurn.CpuSeconds) / Math.Max(0.001, idle.TotalSeconds):F3} cores idle"));
        }

        if (jsonPath is not null)
        {
            await File.WriteAllTextAsync(jsonPath, JsonSerializer.Serialize(new { churn, serverBefore = before, serverAfterChurn = afterChurn, serverAfterIdle = afterIdle }, Json));
        }

        return churn.Completed == cycles ? 0 : 1;
    }

    public static int Token(Cli cli)
    {
        var user = cli.IntValue("--user", 0, 0);
        var options = new LoadOptions
        {
            Url = new Uri("http://127.0.0.1/"),
            Auth = AuthMode.Bearer,
            JwtKey = cli.Value("--jwt-key") ?? throw new ArgumentException("--jwt-key (base64) is required."),
            JwtIssuer = cli.Value("--jwt-issuer", "https://bench.local/dev-issuer"),
            JwtAudience = cli.Value("--jwt-audience", "metrics-api"),
            JwtScope = cli.Value("--jwt-scope", "metrics.read"),
            StreamsPerUser = 1,
        };
        cli.EnsureAllUsed();
        Console.WriteLine(new Credentials(options).AccessToken(user));
        return 0;
    }

    public static string Causes(IReadOnlyDictionary<string, int> causes) =>
        causes.Count == 0 ? "none" : string.Join(", ", causes.OrderByDescending(p => p.Value).Select(p => $"{p.Key} {p.Value:N0}"));

    private static List<int> Pids(Cli cli) =>
        [.. (cli.Value("--pids") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries).Select(p => int.Parse(p, CultureInfo.InvariantCulture))];
}
