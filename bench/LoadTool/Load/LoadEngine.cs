using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;

namespace LoadTool.Load;

/// <summary>Counts by cause (failures before the first frame, drops after it).</summary>
public sealed class CauseCounter
{
    private readonly ConcurrentDictionary<string, int> _counts = new(StringComparer.Ordinal);

    public void Add(string cause) => _counts.AddOrUpdate(cause, 1, static (_, n) => n + 1);

    public int Total => _counts.Values.Sum();

    public Dictionary<string, int> Snapshot() => new(_counts, StringComparer.Ordinal);
}

/// <summary>
/// Opens, holds, measures and closes SSE streams against one URL (<see cref="LoadOptions"/>). Used by the
/// <c>load</c> and <c>churn</c> commands and by the suite's worker processes.
/// </summary>
public sealed class LoadEngine : IAsyncDisposable
{
    private readonly List<SseSubscription> _streams = [];
    private readonly CancellationTokenSource _stopping = new();
    private readonly Histogram _timeToFirstFrame = new();
    private readonly byte[] _eventType;
    private int _open;
    private int _disposed;

    public LoadEngine(LoadOptions options)
    {
        Options = options;
        Transport = new Transport(options);
        Credentials = new Credentials(options);
        _eventType = Encoding.UTF8.GetBytes(options.EventType);
    }

    public LoadOptions Options { get; }

    public Transport Transport { get; }

    public Credentials Credentials { get; }

    public CauseCounter Failures { get; } = new();

    public CauseCounter Drops { get; } = new();

    public CancellationToken Stopping => _stopping.Token;

    public int OpenStreams => Volatile.Read(ref _open);

    public int Attempted { get; private set; }

    /// <summary>Opens <paramref name="count"/> more streams, at most <see cref="LoadOptions.OpenConcurrency"/> at a time, and waits until each delivered its first frame or failed.</summary>
    public async Task<OpenReport> OpenAsync(int count)
    {
        var stopwatch = Stopwatch.StartNew();
        using var gate = new SemaphoreSlim(Options.OpenConcurrency);
        var firstFrames = new List<Task<bool>>(count);
        for (var i = 0; i < count; i++)
        {
            await gate.WaitAsync(_stopping.Token);
            var stream = new SseSubscription(this, _streams.Count, _eventType);
            _streams.Add(stream);
            Attempted++;
            stream.Start(_stopping.Token);
            firstFrames.Add(stream.FirstFrame);
            _ = stream.FirstFrame.ContinueWith(static (_, g) => ((SemaphoreSlim)g!).Release(), gate, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }

        await Task.WhenAll(firstFrames);
        return CreateOpenReport(stopwatch.Elapsed);
    }

    /// <summary>Records every delivered event for <paramref name="window"/>, with the client's own CPU time.</summary>
    public async Task<MeasureReport> MeasureAsync(TimeSpan window, CancellationToken cancellationToken)
    {
        var openAtStart = OpenStreams;
        var dropsBefore = Drops.Total;
        var cpuBefore = Environment.CpuUsage.TotalTime;
        var stopwatch = Stopwatch.StartNew();
        Recorder.Start();
        try
        {
            await Task.Delay(window, cancellationToken);
        }
        finally
        {
            Recorder.Stop();
        }

        var elapsed = stopwatch.Elapsed;
        var cpu = Environment.CpuUsage.TotalTime - cpuBefore;
        var (events, bytes, untimed, latency) = Recorder.Collect();
        return new MeasureReport
        {
            WindowSeconds = elapsed.TotalSeconds,
            Events = events,
            DataBytes = bytes,
            UntimedEvents = untimed,
            LatencyMicroseconds = latency.ToSparse(),
            OpenAtStart = openAtStart,
            OpenAtEnd = OpenStreams,
            DroppedInWindow = Drops.Total - dropsBefore,
            Drops = Drops.Snapshot(),
            ClientCpuSeconds = cpu.TotalSeconds,
            ClientRssBytes = ProcStats.ResidentBytes(Environment.ProcessId),
        };
    }

    /// <summary>
    /// <paramref name="cycles"/> open/close cycles, <paramref name="concurrency"/> at a time: each opens a stream
    /// (with a fresh ticket in ticket mode), waits for its first frame and closes it. Bounded by <paramref name="limit"/>.
    /// Cycle <c>i</c> is stream number <c>i</c> for its user (streams-per-user consecutive cycles share one), so no user
    /// goes over the per-user stream limit or the ticket issuance rate.
    /// </summary>
    public async Task<ChurnReport> ChurnAsync(int cycles, int concurrency, TimeSpan limit)
    {
        using var deadline = new CancellationTokenSource(limit);
        var next = -1;
        var completed = 0;
        var cpuBefore = Environment.CpuUsage.TotalTime;
        var stopwatch = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, concurrency).Select(async worker =>
        {
            int cycle;
            while (!deadline.IsCancellationRequested && (cycle = Interlocked.Increment(ref next)) < cycles)
            {
                // HTTP/2: the workers share connections (streams-per-connection of them on each).
                var stream = new SseSubscription(this, worker, _eventType, Credentials.UserOf(cycle)) { CloseAfterFirstFrame = true };
                stream.Start(_stopping.Token);
                if (await stream.FirstFrame)
                {
                    Interlocked.Increment(ref completed);
                }

                await stream.Completion;
            }
        }).ToArray();
        await Task.WhenAll(workers);
        var elapsed = stopwatch.Elapsed;
        return new ChurnReport
        {
            Requested = cycles,
            Attempted = Math.Min(cycles, next + 1),
            Completed = completed,
            Failures = Failures.Snapshot(),
            Seconds = elapsed.TotalSeconds,
            TimedOut = deadline.IsCancellationRequested,
            TimeToFirstFrameMicroseconds = TimeToFirstFrame(),
            Connections = Transport.ConnectionsOpened,
            ClientCpuSeconds = (Environment.CpuUsage.TotalTime - cpuBefore).TotalSeconds,
        };
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync();
        foreach (var stream in _streams)
        {
            stream.Close();
        }

        await Task.WhenAll(_streams.Select(s => s.Completion)).WaitAsync(TimeSpan.FromSeconds(30)).ContinueWith(static _ => { }, TaskScheduler.Default);
        Transport.Dispose();
        _stopping.Dispose();
    }

    internal void StreamOpened(TimeSpan timeToFirstFrame)
    {
        Interlocked.Increment(ref _open);
        lock (_timeToFirstFrame)
        {
            _timeToFirstFrame.Record((long)(timeToFirstFrame.TotalMilliseconds * 1000));
        }
    }

    internal void StreamClosed() => Interlocked.Decrement(ref _open);

    private long[][] TimeToFirstFrame()
    {
        lock (_timeToFirstFrame)
        {
            return _timeToFirstFrame.ToSparse();
        }
    }

    private OpenReport CreateOpenReport(TimeSpan elapsed) => new()
    {
        Attempted = Attempted,
        Open = OpenStreams,
        Failures = Failures.Snapshot(),
        Drops = Drops.Snapshot(),
        Seconds = elapsed.TotalSeconds,
        TimeToFirstFrameMicroseconds = TimeToFirstFrame(),
        Connections = Transport.ConnectionsOpened,
        ClientRssBytes = ProcStats.ResidentBytes(Environment.ProcessId),
    };
}
