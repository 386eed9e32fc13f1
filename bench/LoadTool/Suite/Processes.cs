using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Threading.Channels;

namespace LoadTool;

/// <summary>Every process the suite starts, in its pid file as "PID STARTTIME" (/proc/PID/stat field 22): run.sh kills exactly those if the suite dies.</summary>
public static class Registry
{
    private static readonly List<Process> s_processes = [];

    public static string? PidFile { get; set; }

    /// <summary>Records a process, started by the suite or forked by one it started (nginx workers), for run.sh's clean-up.</summary>
    public static void Record(int pid, Process? started = null)
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

    /// <summary>Kills <paramref name="process"/> and its descendants, and waits (bounded) until every one of them is gone.</summary>
    public static async Task StopAsync(Process process, TimeSpan wait)
    {
        try
        {
            var tree = ProcStats.WithDescendants([process.Id]);
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync().WaitAsync(wait);
            // Children (nginx workers) exit after their parent: wait for them too, so that none is left over.
            for (var waited = Stopwatch.StartNew(); tree.Any(ProcStats.IsAlive) && waited.Elapsed < wait;) await Task.Delay(50);
        }
        catch (InvalidOperationException)
        {
            // Never started or already reaped.
        }
        catch (TimeoutException)
        {
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"suite: process {process.Id} did not exit within {wait.TotalSeconds} s"));
        }
    }

    /// <summary>Stops every tracked process still running (the suite's last step, and its crash path).</summary>
    public static async Task StopAllAsync()
    {
        Process[] all;
        lock (s_processes)
        {
            all = [.. Enumerable.Reverse(s_processes)];
            s_processes.Clear();
        }

        foreach (var process in all)
        {
            await StopAsync(process, TimeSpan.FromSeconds(10));
            process.Dispose();
        }
    }
}

/// <summary>
/// The one process launcher (servers, load workers, tools): its own environment, tracked by <see cref="Registry"/>, its last output
/// lines kept (all of a tool's; a worker's stdout lines are replies), "Now listening on" lines collected; disposing kills it.
/// </summary>
public sealed class Child : IAsyncDisposable
{
    private const string Listening = "Now listening on: ";
    private readonly ConcurrentQueue<string> _tail = new();
    private readonly ConcurrentQueue<Uri> _listening = new();
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Channel<string>? _replies;
    private readonly int _keep;

    private Child(string name, Process process, bool replies, int keep) =>
        (Name, Process, _keep, _replies) = (name, process, keep, replies ? Channel.CreateUnbounded<string>() : null);

    public string Name { get; }
    public Process Process { get; }
    public int Pid => Process.Id;
    public IReadOnlyList<Uri> ListeningOn => [.. _listening];

    /// <param name="replies">A load worker: commands go to its stdin, its stdout lines are replies (<see cref="AskAsync"/>).</param>
    /// <param name="keep">Output lines kept (the last ones).</param>
    public static Child Start(string name, string file, IEnumerable<string> arguments, IReadOnlyDictionary<string, string?>? environment = null,
        string? directory = null, bool replies = false, int keep = 60)
    {
        var info = new ProcessStartInfo(file, arguments)
        {
            WorkingDirectory = directory ?? "", RedirectStandardInput = replies, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        // Nothing of the suite's own OpenTelemetry or ASP.NET settings leaks into a child.
        foreach (var key in info.Environment.Keys.Where(k => k.StartsWith("OTEL_", StringComparison.Ordinal) || k.StartsWith("ASPNETCORE_", StringComparison.Ordinal) || k.StartsWith("DOTNET_STARTUP", StringComparison.Ordinal)).ToList())
        {
            info.Environment.Remove(key);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string?>()) info.Environment[key] = value;
        var process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {name}.");
        Registry.Record(process.Id, process);
        var child = new Child(name, process, replies, keep);
        process.OutputDataReceived += (_, e) => child.OnLine(e.Data, stdout: true);
        process.ErrorDataReceived += (_, e) => child.OnLine(e.Data, stdout: false);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    /// <summary>Runs a tool to its end (bounded): its exit code and its output.</summary>
    public static async Task<(int Code, string Output)> RunAsync(string file, IEnumerable<string> arguments, TimeSpan timeout)
    {
        try
        {
            await using var tool = Start(Path.GetFileName(file), file, arguments, keep: 100_000);
            await tool.Process.WaitForExitAsync().WaitAsync(timeout);
            tool.Process.WaitForExit(); // the end of its output
            return (tool.Process.ExitCode, tool.Tail());
        }
        catch (Exception e) when (e is TimeoutException or System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            return (-1, e.Message);
        }
    }

    /// <summary>
    /// Start X and wait until it listens: its "Application started" line (.NET hosts), or else a TCP connect to each of
    /// <paramref name="ports"/> on 127.0.0.1 (nginx). Fails fast when it exits, and after <paramref name="timeout"/>.
    /// </summary>
    public async Task WaitListeningAsync(TimeSpan timeout, params int[] ports)
    {
        var listening = ports.Length == 0 ? _started.Task : Task.WhenAll(ports.Select(async port =>
        {
            for (var waited = Stopwatch.StartNew(); ; await Task.Delay(50))
            {
                try
                {
                    using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                    await socket.ConnectAsync(IPAddress.Loopback, port);
                    return;
                }
                catch (SocketException) when (waited.Elapsed < timeout && !Process.HasExited)
                {
                }
            }
        }));
        if (await Task.WhenAny(listening, Process.WaitForExitAsync(), Task.Delay(timeout)) != listening || !listening.IsCompletedSuccessfully)
        {
            throw new InvalidOperationException($"{Name} {(Process.HasExited ? $"exited with code {Process.ExitCode}" : $"did not listen within {timeout.TotalSeconds} s")}. Last output:\n{Tail()}");
        }
    }

    /// <summary>Sends a command line to a worker and waits (bounded) for its reply line "PREFIX JSON".</summary>
    public async Task<T> AskAsync<T>(string command, string prefix, TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await Process.StandardInput.WriteLineAsync(command);
            await Process.StandardInput.FlushAsync(cancel.Token);
            string line;
            do
            {
                line = await _replies!.Reader.ReadAsync(cancel.Token);
            }
            while (!line.StartsWith(prefix + " ", StringComparison.Ordinal));

            return JsonSerializer.Deserialize<T>(line[(prefix.Length + 1)..])!;
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"{Name} did not answer '{command}' within {timeout.TotalSeconds} s. Last output:\n{Tail()}");
        }
        catch (Exception e) when (e is IOException or ChannelClosedException)
        {
            throw new InvalidOperationException($"{Name} ended before answering '{command}'. Last output:\n{Tail()}");
        }
    }

    public string Tail() => string.Join('\n', _tail);

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_replies is not null && !Process.HasExited)
            {
                await Process.StandardInput.WriteLineAsync("close");
                await Process.StandardInput.FlushAsync();
                await Process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(40));
            }
        }
        catch (Exception e) when (e is IOException or TimeoutException or InvalidOperationException)
        {
        }

        await Registry.StopAsync(Process, TimeSpan.FromSeconds(15));
        Process.Dispose();
    }

    private void OnLine(string? line, bool stdout)
    {
        if (stdout && _replies is not null)
        {
            _ = line is null ? _replies.Writer.TryComplete() : _replies.Writer.TryWrite(line);
            return;
        }

        if (line is null) return;
        _tail.Enqueue(line);
        while (_tail.Count > _keep) _tail.TryDequeue(out _);
        if (line.IndexOf(Listening, StringComparison.Ordinal) is >= 0 and var at) _listening.Enqueue(new Uri(line[(at + Listening.Length)..].Trim()));
        if (line.Contains("Application started", StringComparison.Ordinal)) _started.TrySetResult();
    }
}

/// <summary>
/// The load in worker processes (<c>LoadTool worker</c>): the client's CPU and memory apart from the suite's, and HTTP/1.1 loads
/// that one process's RLIMIT_NOFILE cannot hold split over several. Each worker numbers its users from its own offset.
/// </summary>
public sealed class Workers : IAsyncDisposable
{
    private readonly List<Child> _workers = [];

    public int Count => _workers.Count;

    public static async Task<Workers> StartAsync(int streams, LoadOptions options, string dotnet)
    {
        var perWorker = options.Http1 ? Math.Max(100, Machine.OpenFilesLimit() - 500) : int.MaxValue;
        var set = new Workers();
        for (var i = 0; i < Math.Max(1, (int)((streams + (long)perWorker - 1) / perWorker)); i++)
        {
            set._workers.Add(Child.Start($"load worker {i}", dotnet, [typeof(Workers).Assembly.Location, "worker"], replies: true));
            await set._workers[i].Process.StandardInput.WriteLineAsync(JsonSerializer.Serialize(options with { FirstStream = i * 1_000_000 }));
        }

        return set;
    }

    public Task<LoadReport> OpenAsync(int streams, TimeSpan timeout) => AskAllAsync(i => $"open {Share(streams, i)}", "opened", timeout);

    public Task<LoadReport> MeasureAsync(double seconds) =>
        AskAllAsync(_ => string.Create(CultureInfo.InvariantCulture, $"measure {seconds}"), "measured", TimeSpan.FromSeconds(seconds + 60));

    public Task<LoadReport> ChurnAsync(int cycles, int concurrency, double limitSeconds) =>
        AskAllAsync(i => string.Create(CultureInfo.InvariantCulture, $"churn {Share(cycles, i)} {Math.Max(1, Share(concurrency, i))} {limitSeconds}"), "churned", TimeSpan.FromSeconds(limitSeconds + 60));

    public async ValueTask DisposeAsync() => await Task.WhenAll(_workers.Select(w => w.DisposeAsync().AsTask()));

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

    private async Task<LoadReport> AskAllAsync(Func<int, string> command, string reply, TimeSpan timeout) =>
        LoadReport.Merge(await Task.WhenAll(_workers.Select((w, i) => w.AskAsync<LoadReport>(command(i), reply, timeout))));

    private int Share(int total, int index) => (total / _workers.Count) + (index < total % _workers.Count ? 1 : 0);
}
