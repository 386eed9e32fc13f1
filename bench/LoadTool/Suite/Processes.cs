using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Tests.Shared;

namespace LoadTool;

/// <summary>
/// Every process the suite starts (<see cref="ServerProcess"/>, tests/Shared's launcher), in its pid file as "PID STARTTIME"
/// (/proc/PID/stat field 22): run.sh kills exactly those if the suite dies.
/// </summary>
internal static class Registry
{
    private static readonly List<ServerProcess> s_processes = [];

    public static string? PidFile { get; set; }

    /// <summary>
    /// Starts a server, load worker or tool with its own environment (nothing of the suite's OpenTelemetry, ASP.NET or startup-hook
    /// settings leaks into it), its last <paramref name="keepLines"/> output lines kept, recorded for clean-up.
    /// </summary>
    /// <param name="stdin">A load worker: commands go to its stdin (<see cref="ServerProcess.AskAsync"/>).</param>
    public static ServerProcess Start(string name, string file, IEnumerable<string> arguments, IReadOnlyDictionary<string, string?>? environment = null,
        string? directory = null, bool stdin = false, int keepLines = 60)
    {
        var info = new ProcessStartInfo(file, arguments) { WorkingDirectory = directory ?? "", RedirectStandardInput = stdin };
        foreach (var key in info.Environment.Keys.Where(k => k.StartsWith("OTEL_", StringComparison.Ordinal) || k.StartsWith("ASPNETCORE_", StringComparison.Ordinal) || k.StartsWith("DOTNET_STARTUP", StringComparison.Ordinal)).ToList())
        {
            info.Environment.Remove(key);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string?>()) info.Environment[key] = value;
        var server = ServerProcess.Start(name, info, keepLines);
        Record(server.Id, server);
        return server;
    }

    /// <summary>Runs a tool to its end (bounded): its exit code and its output.</summary>
    public static async Task<(int Code, string Output)> RunAsync(string file, IEnumerable<string> arguments, TimeSpan timeout)
    {
        try
        {
            var tool = Start(Path.GetFileName(file), file, arguments, keepLines: 100_000);
            try
            {
                return await tool.WaitForExitAsync(timeout) ? (tool.ExitCode, tool.Output) : (-1, $"{tool.Name} did not exit within {timeout.TotalSeconds} s");
            }
            finally
            {
                await StopAsync(tool, TimeSpan.FromSeconds(15));
            }
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            return (-1, e.Message);
        }
    }

    /// <summary>Records a process, started by the suite or forked by one it started (nginx workers), for run.sh's clean-up.</summary>
    public static void Record(int pid, ServerProcess? started = null)
    {
        lock (s_processes)
        {
            if (started is not null) s_processes.Add(started);
            try
            {
                var stat = File.ReadAllText($"/proc/{pid}/stat");
                File.AppendAllText(PidFile ?? "/dev/null", $"{pid} {stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[19]}\n"); // field 22: starttime
            }
            catch (IOException)
            {
                // Already gone.
            }
        }
    }

    /// <summary>Kills <paramref name="process"/> and its descendants, and waits (bounded) until every one of them is gone; once only.</summary>
    public static async Task StopAsync(ServerProcess process, TimeSpan wait)
    {
        lock (s_processes)
        {
            if (!s_processes.Remove(process)) return; // already stopped
        }

        var tree = ProcStats.WithDescendants([process.Id]);
        process.Kill();
        if (!await process.WaitForExitAsync(wait))
        {
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"suite: process {process.Id} did not exit within {wait.TotalSeconds} s"));
            return;
        }

        // Children (nginx workers) exit after their parent: wait for them too, so that none is left over.
        for (var waited = Stopwatch.StartNew(); tree.Any(ProcStats.IsAlive) && waited.Elapsed < wait;) await Task.Delay(50);
        await process.DisposeAsync();
    }

    /// <summary>Stops every tracked process still running, last started first (the suite's last step, and its crash path).</summary>
    public static async Task StopAllAsync()
    {
        ServerProcess[] all;
        lock (s_processes) all = [.. Enumerable.Reverse(s_processes)];
        foreach (var process in all) await StopAsync(process, TimeSpan.FromSeconds(10));
    }

    /// <summary>Stops <paramref name="processes"/>, last started first.</summary>
    public static async Task StopAsync(IEnumerable<ServerProcess> processes)
    {
        foreach (var process in processes.Reverse()) await StopAsync(process, TimeSpan.FromSeconds(15));
    }
}

/// <summary>
/// The load in worker processes (<c>LoadTool worker</c>): the client's CPU and memory apart from the suite's, and HTTP/1.1 loads
/// that one process's RLIMIT_NOFILE cannot hold split over several. Each worker numbers its users from its own offset.
/// </summary>
public sealed class Workers : IAsyncDisposable
{
    private readonly List<ServerProcess> _workers = [];

    public int Count => _workers.Count;

    public static async Task<Workers> StartAsync(int streams, LoadOptions options, string dotnet)
    {
        var perWorker = options.Http1 ? Math.Max(100, Machine.OpenFilesLimit() - 500) : int.MaxValue;
        var set = new Workers();
        for (var i = 0; i < Math.Max(1, (int)((streams + (long)perWorker - 1) / perWorker)); i++)
        {
            set._workers.Add(Registry.Start($"load worker {i}", dotnet, [typeof(Workers).Assembly.Location, "worker"], stdin: true));
            await set._workers[i].WriteLineAsync(JsonSerializer.Serialize(options with { FirstStream = i * 1_000_000 }));
        }

        return set;
    }

    public Task<LoadReport> OpenAsync(int streams, TimeSpan timeout) => AskAllAsync(i => $"open {Share(streams, i)}", "opened", timeout);

    public Task<LoadReport> MeasureAsync(double seconds) =>
        AskAllAsync(_ => string.Create(CultureInfo.InvariantCulture, $"measure {seconds}"), "measured", TimeSpan.FromSeconds(seconds + 60));

    public Task<LoadReport> ChurnAsync(int cycles, int concurrency, double limitSeconds) =>
        AskAllAsync(i => string.Create(CultureInfo.InvariantCulture, $"churn {Share(cycles, i)} {Math.Max(1, Share(concurrency, i))} {limitSeconds}"), "churned", TimeSpan.FromSeconds(limitSeconds + 60));

    /// <summary>"close" to each worker, a bounded wait for its exit, then it is stopped.</summary>
    public async ValueTask DisposeAsync() => await Task.WhenAll(_workers.Select(async w =>
    {
        try
        {
            if (!w.HasExited)
            {
                await w.WriteLineAsync("close");
                await w.WaitForExitAsync(TimeSpan.FromSeconds(40));
            }
        }
        catch (Exception e) when (e is IOException or InvalidOperationException)
        {
        }

        await Registry.StopAsync(w, TimeSpan.FromSeconds(15));
    }));

    /// <summary>The worker side: options as JSON on the first line, then one command per line and one reply per command on stdout, until "close".</summary>
    public static async Task<int> RunWorkerAsync()
    {
        var options = JsonSerializer.Deserialize<LoadOptions>(await Console.In.ReadLineAsync() ?? "") ?? throw new ArgumentException("No options.");
        await using var engine = new LoadEngine(options);
        while (await Console.In.ReadLineAsync() is { } line && line != "close")
        {
            var p = line.Split(' ').Select(x => double.TryParse(x, CultureInfo.InvariantCulture, out var v) ? v : 0).ToArray();
            var (reply, report) = line.Split(' ')[0] switch
            {
                "open" => ("opened", await engine.OpenAsync((int)p[1])),
                "measure" => ("measured", await engine.MeasureAsync(p[1])),
                "churn" => ("churned", await engine.ChurnAsync((int)p[1], (int)p[2], p[3])),
                _ => throw new ArgumentException($"worker: unknown command '{line}'"),
            };
            await Console.Out.WriteLineAsync(reply + " " + JsonSerializer.Serialize(report));
            await Console.Out.FlushAsync();
        }

        return 0;
    }

    /// <summary>Each worker's reply line "REPLY JSON" to its command.</summary>
    private async Task<LoadReport> AskAllAsync(Func<int, string> command, string reply, TimeSpan timeout) =>
        LoadReport.Merge(await Task.WhenAll(_workers.Select(async (w, i) =>
            JsonSerializer.Deserialize<LoadReport>((await w.AskAsync(command(i), new Regex($"^{reply} (?<json>.*)$"), timeout)).Groups["json"].Value)!)));

    private int Share(int total, int index) => (total / _workers.Count) + (index < total % _workers.Count ? 1 : 0);
}
