using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Metrics.Api.Contracts;

namespace LoadTool;

/// <summary>How streams authenticate: not at all (the peers), or with an access token in the Authorization header.</summary>
public enum AuthMode { None, Bearer }

/// <summary>How the client reaches a server: URL, protocol, connections, credentials. Workers get it as JSON.</summary>
public sealed record LoadOptions
{
    public required Uri Url { get; init; } // http:// (h2c, or HTTP/1.1 with Http1) or https:// (TLS, ALPN h2)
    public bool Http1 { get; init; }
    public int StreamsPerConnection { get; init; } = 500; // HTTP/2 streams per connection; a new connection every this many streams.
    public int SourceAddresses { get; init; } = 1; // HTTP/1.1: connect from 127.0.0.1 … 127.0.0.N, round robin (each address has its own ports).
    public int OpenConcurrency { get; init; } = 200;
    public double OpenTimeoutSeconds { get; init; } = 30;
    public string EventType { get; init; } = "metrics"; // Data events are the ones of this type (`message` = events without an `event:` line).
    public AuthMode Auth { get; init; }
    public int StreamsPerUser { get; init; } = 5; // Streams given to each user (one token per user), under the server's per-user limit.
    public string JwtIssuer { get; init; } = Tokens.Issuer;
    public string JwtAudience { get; init; } = Tokens.Audience;
    public string? JwtKey { get; init; } // Base64 HS256 key the server trusts (its development issuer's).
    public string? PinnedCertificateSha256 { get; init; } // SHA-256 of the one (self-signed) server certificate to accept; "any" accepts every certificate.
    public int FirstStream { get; init; } // Index of this process's first stream (several workers share one user numbering).
    public bool PerEventP99 { get; init; } // Also record a histogram per event, for the p99 of one event over its subscribers.
}

/// <summary>Access tokens for the bench's users, minted exactly as the development issuer does (<see cref="DevelopmentTokens"/>).</summary>
public static class Tokens
{
    public const string Issuer = "https://bench.local/dev-issuer";
    public const string Audience = "metrics-api";

    public static string AccessToken(string keyBase64, int user, string issuer = Issuer, string audience = Audience) =>
        DevelopmentTokens.Mint(
            new DevelopmentIssuerOptions { SigningKey = keyBase64, Issuer = issuer, Audience = audience, AccessTokenLifetime = TimeSpan.FromHours(2) },
            $"user-{user}",
            $"Bench user {user}",
            DateTimeOffset.UtcNow).Token;
}

/// <summary>Counts by cause (failures before the first frame, drops after it).</summary>
public sealed class CauseCounter
{
    private readonly ConcurrentDictionary<string, int> _counts = new(StringComparer.Ordinal);

    public void Add(string cause) => _counts.AddOrUpdate(cause, 1, static (_, n) => n + 1);
    public int Total => _counts.Values.Sum();
    public Dictionary<string, int> Snapshot() => new(_counts, StringComparer.Ordinal);
}

/// <summary>
/// Opens, holds, measures and closes event streams against one URL: HTTP/2 streams on <see cref="H2Connection"/>s
/// (stream slot / streams-per-connection picks the connection), HTTP/1.1 streams on <see cref="H1Client"/>s.
/// </summary>
public sealed class LoadEngine : IAsyncDisposable
{
    private readonly List<SseSubscription> _streams = [];
    private readonly List<Task<H2Connection>> _connections = [];
    private readonly CancellationTokenSource _stopping = new();
    private readonly Histogram _timeToFirstFrame = new();
    private readonly ConcurrentDictionary<int, string> _tokens = new();
    private int _open;
    private int _connectionsOpened;
    private int _nextSource;

    public LoadEngine(LoadOptions options)
    {
        Options = options;
        EventType = Encoding.UTF8.GetBytes(options.EventType);
        if (options.Auth != AuthMode.None && options.JwtKey is null) throw new ArgumentException("A JWT key is required with bearer auth.");
        Recorder.PerEvent = options.PerEventP99;
    }

    public LoadOptions Options { get; }
    public byte[] EventType { get; }
    public CauseCounter Failures { get; } = new();
    public CauseCounter Drops { get; } = new();
    public CancellationToken Stopping => _stopping.Token;
    public int OpenStreams => Volatile.Read(ref _open);

    /// <summary>Opens <paramref name="count"/> more streams, at most <see cref="LoadOptions.OpenConcurrency"/> at a time, and waits until each delivered its first frame or failed.</summary>
    public async Task<LoadReport> OpenAsync(int count)
    {
        var stopwatch = Stopwatch.StartNew();
        using var gate = new SemaphoreSlim(Options.OpenConcurrency);
        var opening = new List<Task>(count);
        for (var i = 0; i < count; i++)
        {
            await gate.WaitAsync(_stopping.Token);
            var stream = new SseSubscription(this, _streams.Count, UserOf(_streams.Count));
            _streams.Add(stream);
            opening.Add(OpenOneAsync(stream).ContinueWith(_ => gate.Release(), TaskScheduler.Default));
        }

        await Task.WhenAll(opening);
        return Report() with { Seconds = stopwatch.Elapsed.TotalSeconds };
    }

    /// <summary>Records every delivered event for <paramref name="seconds"/>, with the client's own CPU time.</summary>
    public async Task<LoadReport> MeasureAsync(double seconds)
    {
        var (openAtStart, dropsBefore, cpuBefore) = (OpenStreams, Drops.Total, Environment.CpuUsage.TotalTime);
        var stopwatch = Stopwatch.StartNew();
        Recorder.Start();
        await Task.Delay(TimeSpan.FromSeconds(seconds));
        Recorder.Stop();
        var (events, bytes, untimed, latency, eventP99s) = Recorder.Collect(fullEvent: Math.Max(1, openAtStart * 9 / 10));
        return Report() with
        {
            WindowSeconds = stopwatch.Elapsed.TotalSeconds, Events = events, DataBytes = bytes, UntimedEvents = untimed, LatencyMicroseconds = latency.ToSparse(),
            EventP99Microseconds = eventP99s, OpenAtStart = openAtStart, OpenAtEnd = OpenStreams, DroppedInWindow = Drops.Total - dropsBefore,
            ClientCpuSeconds = (Environment.CpuUsage.TotalTime - cpuBefore).TotalSeconds,
        };
    }

    /// <summary>
    /// <paramref name="cycles"/> open → first frame → close cycles, <paramref name="concurrency"/> at a time, bounded by
    /// <paramref name="limitSeconds"/>. Cycle i belongs to the user of stream i, so no user goes over the per-user limit.
    /// </summary>
    public async Task<LoadReport> ChurnAsync(int cycles, int concurrency, double limitSeconds)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(limitSeconds));
        var (next, completed, cpuBefore) = (-1, 0, Environment.CpuUsage.TotalTime);
        var stopwatch = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async worker =>
        {
            int cycle;
            while (!deadline.IsCancellationRequested && (cycle = Interlocked.Increment(ref next)) < cycles)
            {
                // HTTP/2: the workers share connections (streams-per-connection of them on each).
                var stream = new SseSubscription(this, worker, UserOf(cycle));
                await OpenOneAsync(stream);
                if (await stream.FirstFrame)
                {
                    Interlocked.Increment(ref completed);
                    stream.Close();
                }
            }
        }));
        return Report() with
        {
            Requested = cycles, Attempted = Math.Min(cycles, next + 1), Completed = completed, Seconds = stopwatch.Elapsed.TotalSeconds,
            TimedOut = deadline.IsCancellationRequested, ClientCpuSeconds = (Environment.CpuUsage.TotalTime - cpuBefore).TotalSeconds,
        };
    }

    /// <summary>Opens one stream whose every event's data goes to <paramref name="onEventData"/> (probes of a server's own samples).</summary>
    public async Task<SseSubscription> ProbeAsync(Action<string> onEventData)
    {
        var stream = new SseSubscription(this, 0, UserOf(0)) { OnEventData = onEventData };
        _streams.Add(stream);
        await OpenOneAsync(stream);
        return stream;
    }

    public async ValueTask DisposeAsync()
    {
        if (_stopping.IsCancellationRequested) return;
        await _stopping.CancelAsync();
        _streams.ForEach(s => s.Close());
        foreach (var connection in _connections)
        {
            try
            {
                await (await connection).DisposeAsync();
            }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or System.Security.Authentication.AuthenticationException)
            {
            }
        }

    }

    internal void StreamOpened(TimeSpan timeToFirstFrame)
    {
        Interlocked.Increment(ref _open);
        lock (_timeToFirstFrame) _timeToFirstFrame.Record((long)(timeToFirstFrame.TotalMilliseconds * 1000));
    }

    internal void StreamClosed() => Interlocked.Decrement(ref _open);
    private int UserOf(int stream) => (Options.FirstStream + stream) / Options.StreamsPerUser;

    /// <summary>Opens one stream and waits for its first frame (or its failure, or the open timeout); never throws.</summary>
    private async Task OpenOneAsync(SseSubscription stream)
    {
        try
        {
            var token = Options.Auth == AuthMode.None ? null : _tokens.GetOrAdd(stream.User, u => Tokens.AccessToken(Options.JwtKey!, u, Options.JwtIssuer, Options.JwtAudience));
            if (Options.Http1)
            {
                var source = Options.SourceAddresses <= 1 ? null : new IPAddress([127, 0, 0, (byte)(1 + ((uint)Interlocked.Increment(ref _nextSource) % Options.SourceAddresses))]);
                Interlocked.Increment(ref _connectionsOpened);
                _ = H1Client.RunAsync(stream, Options.Url, token, source, _stopping.Token).ContinueWith(t => stream.End(Classify(t.Exception)), TaskScheduler.Default);
            }
            else
            {
                var connection = await ConnectionFor(stream.Slot);
                await connection.OpenAsync(stream, Options.Url.PathAndQuery, token, _stopping.Token);
            }

            await stream.FirstFrame.WaitAsync(TimeSpan.FromSeconds(Options.OpenTimeoutSeconds), _stopping.Token);
        }
        catch (TimeoutException)
        {
            stream.End("open_timeout");
        }
        catch (Exception ex)
        {
            stream.End(Classify(ex));
        }
    }

    /// <summary>The connection of stream slot <paramref name="slot"/>; one that failed or ended is replaced for the streams that come after.</summary>
    private Task<H2Connection> ConnectionFor(int slot)
    {
        var index = slot / Options.StreamsPerConnection;
        lock (_connections)
        {
            while (_connections.Count <= index) _connections.Add(Task.FromException<H2Connection>(new IOException("not connected")));
            if (_connections[index] is { IsFaulted: true } or { IsCompletedSuccessfully: true, Result.Ended: not null })
            {
                Interlocked.Increment(ref _connectionsOpened);
                _connections[index] = H2Connection.ConnectAsync(Options.Url, Options.PinnedCertificateSha256, _stopping.Token);
            }

            return _connections[index];
        }
    }

    /// <summary>A failure's cause, from the innermost exception that says something; null for a stream closed on purpose.</summary>
    private static string? Classify(Exception? ex) => ex switch
    {
        null or OperationCanceledException or ObjectDisposedException => null,
        SocketException socket => "socket_" + socket.SocketErrorCode,
        System.Security.Authentication.AuthenticationException => "tls_failed",
        IOException { Message: "alpn_not_h2" } => "alpn_not_h2",
        AggregateException or IOException or HttpRequestException when ex.InnerException is not null => Classify(ex.InnerException),
        IOException => "io_error",
        _ => ex.GetType().Name,
    };

    private LoadReport Report()
    {
        lock (_timeToFirstFrame)
        {
            return new LoadReport
            {
                Attempted = _streams.Count, Open = OpenStreams, Failures = Failures.Snapshot(), Drops = Drops.Snapshot(), TimeToFirstFrameMicroseconds = _timeToFirstFrame.ToSparse(),
                Connections = Volatile.Read(ref _connectionsOpened), ClientRssBytes = ProcStats.ResidentBytes(Environment.ProcessId),
            };
        }
    }
}

/// <summary>What one worker's step gave (open, measure or churn; fields that do not apply stay 0); the suite adds several up.</summary>
public sealed record LoadReport
{
    public int Attempted { get; init; }
    public int Open { get; init; }
    public Dictionary<string, int> Failures { get; init; } = [];
    public Dictionary<string, int> Drops { get; init; } = [];
    public double Seconds { get; init; }
    public long[][] TimeToFirstFrameMicroseconds { get; init; } = [];
    public int Connections { get; init; }
    public long ClientRssBytes { get; init; }
    public double WindowSeconds { get; init; }
    public long Events { get; init; } // data events delivered inside the window, over every stream
    public long DataBytes { get; init; }
    public long UntimedEvents { get; init; } // data events without a parsable "timestamp": (not in the latency figures)
    public long[][] LatencyMicroseconds { get; init; } = [];
    public double[] EventP99Microseconds { get; init; } = []; // with PerEventP99: the p99 of each event over its subscribers, sorted
    public int OpenAtStart { get; init; }
    public int OpenAtEnd { get; init; }
    public int DroppedInWindow { get; init; }
    public double ClientCpuSeconds { get; init; }
    public int Requested { get; init; }
    public int Completed { get; init; }
    public bool TimedOut { get; init; }

    public static LoadReport Merge(IReadOnlyList<LoadReport> all) => all.Count == 1 ? all[0] : new()
    {
        Attempted = all.Sum(r => r.Attempted), Open = all.Sum(r => r.Open), Failures = Causes(all.Select(r => r.Failures)), Drops = Causes(all.Select(r => r.Drops)),
        Seconds = all.Max(r => r.Seconds), TimeToFirstFrameMicroseconds = Histograms(all.Select(r => r.TimeToFirstFrameMicroseconds)),
        Connections = all.Sum(r => r.Connections), ClientRssBytes = all.Sum(r => r.ClientRssBytes), WindowSeconds = all.Average(r => r.WindowSeconds),
        Events = all.Sum(r => r.Events), DataBytes = all.Sum(r => r.DataBytes), UntimedEvents = all.Sum(r => r.UntimedEvents),
        LatencyMicroseconds = Histograms(all.Select(r => r.LatencyMicroseconds)), OpenAtStart = all.Sum(r => r.OpenAtStart), OpenAtEnd = all.Sum(r => r.OpenAtEnd),
        DroppedInWindow = all.Sum(r => r.DroppedInWindow), ClientCpuSeconds = all.Sum(r => r.ClientCpuSeconds), Requested = all.Sum(r => r.Requested),
        Completed = all.Sum(r => r.Completed), TimedOut = all.Any(r => r.TimedOut),
    };

    public static string Causes(IReadOnlyDictionary<string, int>? causes) =>
        causes is null || causes.Count == 0 ? "none" : string.Join(", ", causes.OrderByDescending(p => p.Value).Select(p => $"{p.Key} {p.Value:N0}"));

    private static Dictionary<string, int> Causes(IEnumerable<Dictionary<string, int>> all) =>
        all.SelectMany(c => c).GroupBy(p => p.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Sum(p => p.Value), StringComparer.Ordinal);

    private static long[][] Histograms(IEnumerable<long[][]> all) => all.Select(Histogram.FromSparse).Aggregate(new Histogram(), (total, h) => total.Add(h)).ToSparse();
}
