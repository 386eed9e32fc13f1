using System.Buffers.Text;
using System.Diagnostics;
using System.Net;
using System.Text;

namespace Fanout;

/// <summary>
/// N HTTP/2 (h2c) streams from this process to a real Metrics.Api process on loopback, fed by the
/// service's own sampler. Latency is receive time minus the sample's timestamp; server allocation and
/// memory come from the server's own metrics events.
/// </summary>
public static class HttpScenario
{
    private const string StreamPath = "/api/stream/metrics";

    /// <summary>
    /// Events published with every stream open before measuring. Tiered compilation promotes a method after 30 calls,
    /// twice (instrumented, then optimized), so code that runs once per event (the sampler, the hub's fan-out loop)
    /// reaches its steady-state code after ~65 events: a minute at 1/s. Measured earlier, the p99 is the JIT's.
    /// </summary>
    private const int WarmupEvents = 70;

    /// <summary>Events per measured window, at least: a window's p99 is decided by its worst event or two.</summary>
    private const int MeasuredEvents = 30;

    private static readonly TimeSpan s_minimumMeasure = TimeSpan.FromSeconds(12);

    public static async Task<Result> RunAsync(int streamCount, double eventsPerSecond, StreamClient streamClient, int streamsPerConnection)
    {
        var warmup = TimeSpan.FromSeconds(Math.Max(2, WarmupEvents / eventsPerSecond));
        var measure = TimeSpan.FromSeconds(Math.Max(s_minimumMeasure.TotalSeconds, MeasuredEvents / eventsPerSecond));
        Console.Error.WriteLine($"HTTP/2 ({streamClient}), {streamCount:N0} streams at {eventsPerSecond}/s ({warmup.TotalSeconds:F0} s warm-up, {measure.TotalSeconds:F0} s measured)...");
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(90) + warmup + measure);
        await using var server = await ServerProcess.StartAsync(TimeSpan.FromSeconds(1 / eventsPerSecond), limit.Token);
        using var client = new HttpClient(new SocketsHttpHandler { EnableMultipleHttp2Connections = true })
        {
            BaseAddress = server.H2cAddress,
            DefaultRequestVersion = HttpVersion.Version20,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Timeout = Timeout.InfiniteTimeSpan,
        };
        var accessToken = BenchIdentity.AccessToken();
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", accessToken);

        // A probe stream watches the server's own samples (allocations, memory) throughout.
        var probe = new StreamReaderLoop(latencySlots: 0);
        var probeTask = probe.RunAsync(client, limit.Token);
        // Two samples with no stream but the probe: the server's own allocation rate (sampling, timers).
        await probe.NextSampleAsync(limit.Token);
        var baseline = await probe.NextSampleAsync(limit.Token);
        await Task.Delay(TimeSpan.FromSeconds(3), limit.Token);
        var idleEnd = await probe.NextSampleAsync(limit.Token);
        var idleBytesPerMs = (double)(idleEnd.AllocatedBytes - baseline.AllocatedBytes) / (idleEnd.Timestamp - baseline.Timestamp);

        var streams = Enumerable.Range(0, streamCount).Select(_ => new StreamReaderLoop(latencySlots: (int)(measure.TotalSeconds * eventsPerSecond) + 5)).ToArray();
        var tasks = new List<Task>();
        var connections = new List<H2cFrameReader>();
        foreach (var batch in streams.Chunk(streamsPerConnection))
        {
            if (streamClient == StreamClient.FrameReader)
            {
                connections.Add(await H2cFrameReader.OpenAsync(server.H2cAddress, StreamPath, accessToken, batch, limit.Token));
            }
            else
            {
                // HttpClient opens another connection when a connection's stream limit is reached.
                tasks.AddRange(batch.Select(s => s.RunAsync(client, limit.Token)));
            }

            await Task.WhenAll(batch.Select(s => s.Ready.Task)).WaitAsync(limit.Token);
        }

        // Warm up with every stream open, then measure a fixed window between two server samples.
        await Task.Delay(warmup, limit.Token);
        var open = await probe.NextSampleAsync(limit.Token);
        var deliveredBefore = streams.Sum(s => s.Frames);
        foreach (var s in streams)
        {
            s.RecordLatency = true;
        }

        var clientCpuBefore = Environment.CpuUsage.TotalTime;
        var stopwatch = Stopwatch.StartNew();
        await Task.Delay(measure, limit.Token);
        var end = await probe.NextSampleAsync(limit.Token);
        var elapsed = stopwatch.Elapsed;
        var clientCpu = (Environment.CpuUsage.TotalTime - clientCpuBefore) / (elapsed * Environment.ProcessorCount) * 100;
        double serverCpu;
        lock (probe.Samples)
        {
            // Each sample's CPU % covers the interval before it: average those inside the window.
            serverCpu = probe.Samples.Where(x => x.Timestamp > open.Timestamp && x.Timestamp <= end.Timestamp).Average(x => x.CpuPercent);
        }
        foreach (var s in streams)
        {
            s.RecordLatency = false;
        }

        var delivered = streams.Sum(s => s.Frames) - deliveredBefore;
        var latencies = streams.SelectMany(s => s.Latencies.Take(s.LatencyCount)).ToArray();
        var (p50, p99, max) = Result.Percentiles(latencies, latencies.Length);
        var perEvent = Result.PerEventP99(
            streams.SelectMany(s => s.SampledAt.Take(s.LatencyCount).Zip(s.Latencies.Take(s.LatencyCount))),
            fullEvent: streamCount * 9 / 10);
        var serverAllocated = end.AllocatedBytes - open.AllocatedBytes;
        var workingSetPerStream = (double)(open.WorkingSetBytes - baseline.WorkingSetBytes) / streamCount;
        var heapPerStream = (double)(open.GcHeapBytes - baseline.GcHeapBytes) / streamCount;

        var failed = connections.Sum(c => c.FailedStreams);
        if (failed > 0)
        {
            Console.Error.WriteLine($"  {failed:N0} streams failed or ended early.");
        }

        await limit.CancelAsync();
        foreach (var connection in connections)
        {
            await connection.DisposeAsync();
        }

        await Task.WhenAll(tasks.Append(probeTask)).ContinueWith(_ => { }, TaskScheduler.Default);
        return new Result(
            streamClient == StreamClient.FrameReader ? "HTTP/2 loopback, frame reader" : "HTTP/2 loopback, HttpClient",
            streamCount,
            eventsPerSecond,
            delivered,
            delivered / elapsed.TotalSeconds,
            p50,
            p99,
            max,
            (double)serverAllocated / delivered,
            (serverAllocated - (idleBytesPerMs * (end.Timestamp - open.Timestamp))) / delivered,
            workingSetPerStream,
            $"(server RSS; GC heap {heapPerStream / 1024:F1} KiB)",
            serverCpu,
            clientCpu,
            perEvent?.Median,
            perEvent?.Worst);
    }

    /// <summary>Reads one stream with no per-event allocation: frames are counted, metrics timestamps parsed in place.</summary>
    private sealed class StreamReaderLoop(int latencySlots) : IEventStreamReader
    {
        private static readonly byte[] s_timestamp = "\"timestamp\":"u8.ToArray();
        private static readonly byte[] s_allocated = "\"allocatedBytes\":"u8.ToArray();
        private static readonly byte[] s_workingSet = "\"workingSetBytes\":"u8.ToArray();
        private static readonly byte[] s_gcHeap = "\"gcHeapBytes\":"u8.ToArray();
        private static readonly byte[] s_cpu = "\"cpuPercent\":"u8.ToArray();
        private TaskCompletionSource<ServerSample>? _nextSample;
        private byte[] _pending = new byte[4 * 1024];
        private int _filled;

        /// <summary>Every server sample seen (probe stream only).</summary>
        public List<ServerSample> Samples { get; } = [];

        public TaskCompletionSource Ready { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public long Frames;

        public double[] Latencies { get; } = new double[latencySlots];

        /// <summary>Which event (its sample timestamp) each latency belongs to.</summary>
        public long[] SampledAt { get; } = new long[latencySlots];

        public int LatencyCount { get; private set; }

        public volatile bool RecordLatency;

        public Task<ServerSample> NextSampleAsync(CancellationToken cancellationToken)
        {
            var next = new TaskCompletionSource<ServerSample>(TaskCreationOptions.RunContinuationsAsynchronously);
            Volatile.Write(ref _nextSample, next);
            return next.Task.WaitAsync(cancellationToken);
        }

        public async Task RunAsync(HttpClient client, CancellationToken cancellationToken)
        {
            try
            {
                using var response = await client.GetAsync(new Uri(StreamPath, UriKind.Relative), HttpCompletionOption.ResponseHeadersRead, cancellationToken);
                response.EnsureSuccessStatusCode();
                await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
                while (true)
                {
                    EnsureRoom(1024);
                    var read = await body.ReadAsync(_pending.AsMemory(_filled), cancellationToken);
                    if (read == 0)
                    {
                        return;
                    }

                    _filled += read;
                    SplitFrames();
                }
            }
            catch (OperationCanceledException)
            {
                // The run is over.
            }
            finally
            {
                OnEnded();
            }
        }

        /// <summary>Bytes of the stream as the frame reader receives them (any split).</summary>
        public void OnData(ReadOnlySpan<byte> data)
        {
            EnsureRoom(data.Length);
            data.CopyTo(_pending.AsSpan(_filled));
            _filled += data.Length;
            SplitFrames();
        }

        public void OnEnded() => Ready.TrySetResult();

        private void EnsureRoom(int bytes)
        {
            if (_pending.Length - _filled < bytes)
            {
                Array.Resize(ref _pending, Math.Max(_pending.Length * 2, _filled + bytes));
            }
        }

        private void SplitFrames()
        {
            var start = 0;
            int end;
            while ((end = _pending.AsSpan(start, _filled - start).IndexOf("\n\n"u8)) >= 0)
            {
                OnFrame(_pending.AsSpan(start, end));
                start += end + 2;
            }

            _pending.AsSpan(start, _filled - start).CopyTo(_pending);
            _filled -= start;
        }

        private void OnFrame(ReadOnlySpan<byte> frame)
        {
            Frames++;
            if (frame.StartsWith("event: ready"u8))
            {
                Ready.TrySetResult();
                return;
            }

            if (!frame.StartsWith("event: metrics"u8) || Number(frame, s_timestamp) is not { } sampledAt)
            {
                return;
            }

            if (RecordLatency && LatencyCount < Latencies.Length)
            {
                SampledAt[LatencyCount] = sampledAt;
                Latencies[LatencyCount++] = (DateTime.UtcNow - DateTime.UnixEpoch).TotalMilliseconds - sampledAt;
            }

            if (Latencies.Length > 0)
            {
                return; // only the probe keeps server samples
            }

            var sample = new ServerSample(
                sampledAt,
                Number(frame, s_allocated) ?? 0,
                Number(frame, s_workingSet) ?? 0,
                Number(frame, s_gcHeap) ?? 0,
                Decimal(frame, s_cpu));
            lock (Samples)
            {
                Samples.Add(sample);
            }

            if (Volatile.Read(ref _nextSample) is { } waiting && Interlocked.CompareExchange(ref _nextSample, null, waiting) == waiting)
            {
                waiting.TrySetResult(sample);
            }
        }

        private static double Decimal(ReadOnlySpan<byte> frame, ReadOnlySpan<byte> key)
        {
            var at = frame.IndexOf(key);
            return at >= 0 && Utf8Parser.TryParse(frame[(at + key.Length)..], out double value, out _) ? value : double.NaN;
        }

        private static long? Number(ReadOnlySpan<byte> frame, ReadOnlySpan<byte> key)
        {
            var at = frame.IndexOf(key);
            return at >= 0 && Utf8Parser.TryParse(frame[(at + key.Length)..], out long value, out _) ? value : null;
        }
    }

    /// <param name="Timestamp">When the server took the sample, unix milliseconds.</param>
    private sealed record ServerSample(long Timestamp, long AllocatedBytes, long WorkingSetBytes, long GcHeapBytes, double CpuPercent);

    /// <summary>dotnet Metrics.Api.dll on 127.0.0.1 with OS-chosen ports; killed when disposed.</summary>
    private sealed class ServerProcess : IAsyncDisposable
    {
        private readonly Process _process;

        private ServerProcess(Process process, Uri h2c)
        {
            _process = process;
            H2cAddress = h2c;
        }

        public Uri H2cAddress { get; }

        public static async Task<ServerProcess> StartAsync(TimeSpan sampleInterval, CancellationToken cancellationToken)
        {
            var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
            {
                WorkingDirectory = AppContext.BaseDirectory,
                RedirectStandardOutput = true,
                UseShellExecute = false,
            };
            start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Metrics.Api.dll"));
            // Development: the server trusts the benchmark's own development issuer (streams need a token).
            start.Environment["ASPNETCORE_ENVIRONMENT"] = "Development";
            start.Environment["DevelopmentIssuer__Issuer"] = BenchIdentity.Issuer;
            start.Environment["DevelopmentIssuer__Audience"] = BenchIdentity.Audience;
            start.Environment["DevelopmentIssuer__SigningKey"] = BenchIdentity.SigningKey;
            start.Environment["StreamTickets__SigningKey"] = BenchIdentity.TicketKey;
            start.Environment["Streaming__Limits__MaxStreamsPerUser"] = "100000";
            start.Environment["Kestrel__Endpoints__http__Url"] = "http://127.0.0.1:0";
            start.Environment["Kestrel__Endpoints__h2c__Url"] = "http://127.0.0.1:0";
            start.Environment["Streaming__Sampler__Interval"] = sampleInterval.ToString("c", System.Globalization.CultureInfo.InvariantCulture);
            start.Environment["Streaming__QueueCapacity"] = "128";
            start.Environment["Logging__LogLevel__Default"] = "Warning";
            start.Environment["Logging__LogLevel__Microsoft.Hosting.Lifetime"] = "Information";

            var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start Metrics.Api.");
            var addresses = new List<Uri>();
            while (await process.StandardOutput.ReadLineAsync(cancellationToken) is { } line && !line.Contains("Application started", StringComparison.Ordinal))
            {
                var at = line.IndexOf("http://", StringComparison.Ordinal);
                if (line.Contains("Now listening on", StringComparison.Ordinal) && at >= 0)
                {
                    addresses.Add(new Uri(line[at..].Trim()));
                }
            }

            _ = process.StandardOutput.ReadToEndAsync(CancellationToken.None); // keep the pipe drained
            foreach (var address in addresses)
            {
                // The h2c endpoint is the one an HTTP/1.1 request cannot use.
                using var probe = new HttpClient { BaseAddress = address };
                using var response = await probe.GetAsync(new Uri("/alive", UriKind.Relative), cancellationToken);
                if (!response.IsSuccessStatusCode)
                {
                    return new ServerProcess(process, address);
                }
            }

            process.Kill();
            throw new InvalidOperationException("No h2c endpoint found.");
        }

        public async ValueTask DisposeAsync()
        {
            if (!_process.HasExited)
            {
                _process.Kill();
                await _process.WaitForExitAsync();
            }

            _process.Dispose();
        }
    }
}

/// <summary>How the benchmark reads its streams over HTTP/2.</summary>
public enum StreamClient
{
    /// <summary>One HttpClient request per stream: what a .NET client would write; its own cost is in the latency.</summary>
    HttpClient,

    /// <summary>One frame-reading loop per connection (<see cref="H2cFrameReader"/>): the figures are the server's.</summary>
    FrameReader,
}
