using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using LoadTool.Load;

namespace LoadTool.Suite;

/// <summary>
/// The load, in worker processes of its own (<c>LoadTool worker</c>): its CPU and memory are the client's, apart
/// from the suite's, and several workers split a load one process cannot hold (HTTP/1.1: one file descriptor per
/// stream, and RLIMIT_NOFILE caps a process). Each worker numbers its users from its own offset.
/// </summary>
public sealed class WorkerSet : IAsyncDisposable
{
    private const int UsersOffsetPerWorker = 1_000_000;
    private readonly List<WorkerProcess> _workers = [];

    private WorkerSet()
    {
    }

    public int Count => _workers.Count;

    /// <summary>How many workers <paramref name="streams"/> streams need with this protocol and RLIMIT_NOFILE.</summary>
    public static int WorkersFor(int streams, LoadOptions options)
    {
        if (options.HttpVersion.Major == 2)
        {
            return 1;
        }

        var perWorker = Math.Max(100, TargetFactory.OpenFilesLimit() - 500);
        return Math.Max(1, (streams + perWorker - 1) / perWorker);
    }

    public static WorkerSet Start(int count, LoadOptions options, ProcessRegistry registry, string dotnet)
    {
        var set = new WorkerSet();
        var tool = typeof(WorkerSet).Assembly.Location;
        for (var i = 0; i < count; i++)
        {
            var info = new ProcessStartInfo(dotnet)
            {
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            info.ArgumentList.Add(tool);
            info.ArgumentList.Add("worker");
            foreach (var argument in (options with { FirstStream = i * UsersOffsetPerWorker }).ToArgs())
            {
                info.ArgumentList.Add(argument);
            }

            var process = Process.Start(info) ?? throw new InvalidOperationException("Could not start a load worker.");
            registry.Track(process);
            set._workers.Add(new WorkerProcess(i, process));
        }

        return set;
    }

    public async Task<OpenReport> OpenAsync(int streams, TimeSpan timeout)
    {
        var replies = await Task.WhenAll(_workers.Select((w, i) => w.AskAsync($"open {Share(streams, i)}", "opened", timeout)));
        return Merge.Open([.. replies.Select(r => JsonSerializer.Deserialize<OpenReport>(r)!)]);
    }

    public async Task<MeasureReport> MeasureAsync(double seconds)
    {
        var replies = await Task.WhenAll(_workers.Select(w => w.AskAsync(string.Create(CultureInfo.InvariantCulture, $"measure {seconds}"), "measured", TimeSpan.FromSeconds(seconds + 60))));
        return Merge.Measure([.. replies.Select(r => JsonSerializer.Deserialize<MeasureReport>(r)!)]);
    }

    public async Task<ChurnReport> ChurnAsync(int cycles, int concurrency, double limitSeconds)
    {
        var replies = await Task.WhenAll(_workers.Select((w, i) => w.AskAsync(
            string.Create(CultureInfo.InvariantCulture, $"churn {Share(cycles, i)} {Math.Max(1, Share(concurrency, i))} {limitSeconds}"),
            "churned",
            TimeSpan.FromSeconds(limitSeconds + 60))));
        return Merge.Churn([.. replies.Select(r => JsonSerializer.Deserialize<ChurnReport>(r)!)]);
    }

    public async ValueTask DisposeAsync()
    {
        await Task.WhenAll(_workers.Select(w => w.CloseAsync()));
    }

    private int Share(int total, int index) => (total / _workers.Count) + (index < total % _workers.Count ? 1 : 0);

    private sealed class WorkerProcess
    {
        private readonly int _index;
        private readonly Process _process;
        private readonly Queue<string> _errors = new();

        public WorkerProcess(int index, Process process)
        {
            _index = index;
            _process = process;
            process.ErrorDataReceived += (_, e) =>
            {
                if (e.Data is null)
                {
                    return;
                }

                lock (_errors)
                {
                    _errors.Enqueue(e.Data);
                    if (_errors.Count > 40)
                    {
                        _errors.Dequeue();
                    }
                }
            };
            process.BeginErrorReadLine();
        }

        public async Task<string> AskAsync(string command, string replyPrefix, TimeSpan timeout)
        {
            using var cancel = new CancellationTokenSource(timeout);
            try
            {
                await _process.StandardInput.WriteLineAsync(command);
                await _process.StandardInput.FlushAsync(cancel.Token);
                while (await _process.StandardOutput.ReadLineAsync(cancel.Token) is { } line)
                {
                    if (line.StartsWith(replyPrefix + " ", StringComparison.Ordinal))
                    {
                        return line[(replyPrefix.Length + 1)..];
                    }
                }
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"Load worker {_index} did not answer '{command}' within {timeout.TotalSeconds} s. {Errors()}");
            }
            catch (IOException)
            {
            }

            throw new InvalidOperationException($"Load worker {_index} ended{(_process.HasExited ? $" with code {_process.ExitCode}" : "")} before answering '{command}'. {Errors()}");
        }

        public async Task CloseAsync()
        {
            try
            {
                if (!_process.HasExited)
                {
                    await _process.StandardInput.WriteLineAsync("close");
                    await _process.StandardInput.FlushAsync();
                    await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(40));
                }
            }
            catch (Exception ex) when (ex is IOException or TimeoutException or InvalidOperationException)
            {
            }
            finally
            {
                await ProcessRegistry.StopAsync(_process, TimeSpan.FromSeconds(10));
                _process.Dispose();
            }
        }

        private string Errors()
        {
            lock (_errors)
            {
                return _errors.Count == 0 ? "" : "Its last errors:\n" + string.Join('\n', _errors);
            }
        }
    }
}
