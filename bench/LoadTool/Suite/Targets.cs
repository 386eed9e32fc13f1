using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using Tests.Shared;

namespace LoadTool;
/// <summary>
/// A target running: the load's options, the measured processes, every process started (stopped last to first), the open streams
/// each Metrics.Api replica reports, redis-server (edge-redis; measured apart), and how many publishers each stream hears (replicas).
/// </summary>
internal sealed record RunningTarget(LoadOptions Load, IReadOnlyList<ServerProcess> Servers, IReadOnlyList<ServerProcess> Started, IAsyncDisposable? Publisher = null,
    Func<Task<int[]?>>? ReportedOpenStreams = null, ServerProcess? Redis = null, int Sources = 1) : IAsyncDisposable
{
    public IReadOnlyList<int> Pids => [.. Servers.Select(s => s.Id)];

    /// <summary>The server processes together and, when there are several, each on its own (which one holds the memory, which one spends the CPU).</summary>
    public ProcSample Sample()
    {
        var total = ProcStats.Sample(Pids);
        return Servers.Count < 2 ? total : total with
        {
            Parts = [.. Servers.Select(server =>
            {
                var one = ProcStats.Sample([server.Id]);
                return new ProcPart(server.Name, one.CpuSeconds, one.RssBytes);
            })],
        };
    }

    public async ValueTask DisposeAsync()
    {
        if (Publisher is not null) await Publisher.DisposeAsync();
        await Registry.StopAsync(Started);
    }
}

/// <summary>
/// Starts each target fresh per scenario on 127.0.0.1 with OS-chosen ports: edge = Edge.Proxy + Metrics.Api as the AppHost wires
/// them; edge-redis = two Metrics.Api replicas on a Redis backplane behind one Edge.Proxy; api; nchan-h1 / nchan-h2 (nginx + nchan, fed by <see cref="NchanPublisher"/>); naive; hop-* (the emitter, direct or via the edge).
/// </summary>
public sealed class Targets(SuiteOptions options)
{
    public static readonly string[] HopTargets = ["hop-direct-h1", "hop-direct-h2c", "hop-edge-h1", "hop-edge-h2c", "hop-edge-h2"];
    private const string CertificatePassword = "bench";
    private readonly string _certificates = Path.Combine(options.ResultsDir, "tls");
    // Fresh random keys per run: the suite mints the access tokens, the API trusts them.
    private readonly string _jwtKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(48));
    private readonly string _ticketKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(48));
    private string? _certificateSha256;

    public static TargetDescription Describe(string name, AuthMode auth) => name switch
    {
        "edge" => new(name, "Whole system through the edge", "HTTP/2 over TLS to Edge.Proxy (YARP), h2c to Metrics.Api", auth.ToString().ToLowerInvariant(), "Metrics.Api + Edge.Proxy", Ours: true),
        "edge-redis" => new(name, "Scale-out: two Metrics.Api replicas on Redis behind the edge (W1 only)", "HTTP/2 over TLS to Edge.Proxy, h2c to either replica", auth.ToString().ToLowerInvariant(), "2 × Metrics.Api + Edge.Proxy (redis-server apart)", Ours: true),
        "api" => new(name, "Metrics.Api direct", "h2c (HTTP/2 cleartext)", auth.ToString().ToLowerInvariant(), "Metrics.Api", Ours: true),
        "nchan-h1" => new(name, "nginx + nchan, HTTP/1.1", "HTTP/1.1 EventSource, one connection per stream", "none", "nginx master + 2 workers", Ours: false),
        "nchan-h2" => new(name, "nginx + nchan, HTTP/2", "HTTP/2 over TLS (same transport as the edge)", "none", "nginx master + 2 workers", Ours: false),
        _ => new(name, "Naive ASP.NET Core SSE", "h2c (HTTP/2 cleartext)", "none", "NaiveSse", Ours: false),
    };

    /// <summary>Starts <paramref name="name"/> publishing <paramref name="rate"/> events/s; stops what it started if a part fails.</summary>
    /// <param name="publishHook">Metrics.Api publishes through bench/PublishHook (any rate) instead of its sampler (≤ 10/s).</param>
    /// <param name="perfMaps">Profile pass: .NET services write perf maps (DOTNET_PerfMapEnabled) so perf can name JIT-compiled frames.</param>
    internal async Task<RunningTarget> StartAsync(string name, double rate, bool publishHook, int? streamsPerConnection = null, bool perfMaps = false)
    {
        var spc = streamsPerConnection ?? options.StreamsPerConnection;
        // The one self-signed certificate of the bench: bench.pfx for Kestrel, bench.crt/bench.key for nginx.
        _certificateSha256 ??= SelfSignedCertificate.WriteTo(_certificates, "bench", CertificatePassword, TimeSpan.FromDays(2));
        LoadOptions Load(Uri url, AuthMode auth, bool http1 = false) => new()
        {
            Url = url, Http1 = http1, StreamsPerConnection = spc, OpenConcurrency = options.OpenConcurrency, OpenTimeoutSeconds = options.OpenTimeoutSeconds,
            SourceAddresses = http1 ? 8 : 1, // HTTP/1.1 holds a port per stream: spread the client over 127.0.0.1-8
            Auth = auth, StreamsPerUser = options.StreamsPerUser, JwtKey = _jwtKey, PinnedCertificateSha256 = url.Scheme == Uri.UriSchemeHttps ? _certificateSha256 : null,
        };
        var started = new List<ServerProcess>();
        async Task<(ServerProcess Server, IReadOnlyList<Uri> Listening)> StartDotnetAsync(string process, string project, Dictionary<string, string?> env, IEnumerable<string>? extra = null)
        {
            (env["Logging__LogLevel__Default"], env["Logging__LogLevel__Microsoft.Hosting.Lifetime"]) = ("Warning", "Information");
            foreach (var pair in extra ?? [])
            {
                var eq = pair.IndexOf('=', StringComparison.Ordinal);
                env[eq > 0 ? pair[..eq] : throw new ArgumentException($"Expected KEY=VALUE, got '{pair}'.")] = pair[(eq + 1)..];
            }

            // W^X double-maps JIT code through memfd, which perf cannot match with the perf map.
            if (perfMaps) (env["DOTNET_PerfMapEnabled"], env["DOTNET_EnableWriteXorExecute"]) = ("1", "0");
            var dll = project == "emitter" ? typeof(Targets).Assembly.Location : options.Dll(project);
            var server = Registry.Start(process, options.Dotnet, project == "emitter" ? [dll, "emitter", "--interval-ms", options.HopIntervalMs.ToString(CultureInfo.InvariantCulture)] : [dll], env, Path.GetDirectoryName(dll));
            started.Add(server);
            return (server, await server.WaitListeningAsync(TimeSpan.FromSeconds(60)));
        }

        async Task<(ServerProcess Edge, Uri Http1, Uri H2c, Uri Https)> StartEdgeAsync(IReadOnlyList<Uri> upstreamsH2c, Uri upstreamHttp)
        {
            var env = upstreamsH2c.Select((u, i) => KeyValuePair.Create($"services__metrics-api__h2c__{i}", (string?)u.ToString())).ToDictionary(); // one destination each
            var edge = await StartDotnetAsync("edge-proxy", "Edge.Proxy", new(env)
            {
                ["ASPNETCORE_ENVIRONMENT"] = "Production",
                ["Kestrel__Endpoints__http__Url"] = "http://127.0.0.1:0",
                ["Kestrel__Endpoints__h2c__Url"] = "http://127.0.0.1:0",
                ["Kestrel__Endpoints__https__Url"] = "https://127.0.0.1:0",
                ["Kestrel__Endpoints__https__Protocols"] = "Http1AndHttp2",
                ["Kestrel__Certificates__Default__Path"] = Path.Combine(_certificates, "bench.pfx"),
                ["Kestrel__Certificates__Default__Password"] = CertificatePassword,
                // The dashboard route is not exercised; the edge only needs a resolvable destination for it.
                ["services__dashboard-web__http__0"] = upstreamHttp.ToString(),
                ["Edge__Server__Http2MaxStreamsPerConnection"] = Math.Max(100, spc).ToString(CultureInfo.InvariantCulture),
                ["DOTNET_SYSTEM_BUFFERS_SHAREDARRAYPOOL_MAXARRAYSPERPARTITION"] = "4096", // as the AppHost sets it
            }, options.EdgeEnv);
            var (http1, h2c) = await SplitAsync(edge);
            return (edge.Server, http1, h2c, edge.Listening.Single(u => u.Scheme == Uri.UriSchemeHttps));
        }

        try
        {
            if (name.StartsWith("hop-", StringComparison.Ordinal))
            {
                var emitter = await StartDotnetAsync("emitter", "emitter", []);
                var (h1, h2c) = (emitter.Listening[0], emitter.Listening[1]);
                var edge = name.StartsWith("hop-edge", StringComparison.Ordinal) ? await StartEdgeAsync([h2c], h1) : default;
                var url = name switch { "hop-direct-h1" => h1, "hop-direct-h2c" => h2c, "hop-edge-h1" => edge.Http1, "hop-edge-h2c" => edge.H2c, _ => edge.Https };
                return new RunningTarget(Load(new Uri(url, "/api/stream/bench"), AuthMode.None, name.EndsWith("h1", StringComparison.Ordinal)), edge.Edge is { } e ? [e] : [], started);
            }

            if (name.StartsWith("nchan", StringComparison.Ordinal))
            {
                var dir = Path.Combine(options.ResultsDir, "nginx", Guid.NewGuid().ToString("N")[..8]);
                var (h1, h2) = (LoopbackPort.Free(), LoopbackPort.Free()); // nginx cannot report an OS-chosen port
                var config = NchanPublisher.WriteConfig(dir, options.NchanModule, h1, h2, _certificates, spc, Machine.OpenFilesLimit());
                var nginx = Registry.Start("nginx", options.Nginx, ["-c", config, "-p", dir + "/", "-e", Path.Combine(dir, "error.log")], directory: dir);
                started.Add(nginx);
                await nginx.WaitForPortsAsync(TimeSpan.FromSeconds(20), h1, h2);
                await Task.Delay(200); // let the master fork its workers, then record them for run.sh's clean-up
                foreach (var pid in ProcStats.WithDescendants([nginx.Id]).Skip(1)) Registry.Record(pid);
                return new RunningTarget(Load(new Uri(name == "nchan-h2" ? $"https://127.0.0.1:{h2}/sub" : $"http://127.0.0.1:{h1}/sub"), AuthMode.None, name == "nchan-h1"), [nginx], started,
                    new NchanPublisher(new Uri($"http://127.0.0.1:{h1}/pub"), rate), () => NchanSubscribersAsync(new Uri($"http://127.0.0.1:{h1}/nchan_status")));
            }

            if (name == "naive")
            {
                var naive = await StartDotnetAsync("naive-sse", "bench/NaiveSse", new()
                {
                    ["ASPNETCORE_ENVIRONMENT"] = "Production",
                    ["Kestrel__Endpoints__h2c__Url"] = "http://127.0.0.1:0",
                    ["Kestrel__Endpoints__h2c__Protocols"] = "Http2",
                    ["Kestrel__Limits__Http2__MaxStreamsPerConnection"] = spc.ToString(CultureInfo.InvariantCulture),
                    ["Kestrel__Limits__MaxConcurrentConnections"] = "100000",
                    ["IntervalMs"] = (1000 / rate).ToString(CultureInfo.InvariantCulture),
                });
                return new RunningTarget(Load(new Uri(naive.Listening[0], "/sse"), AuthMode.None), [naive.Server], started);
            }

            var env = new Dictionary<string, string?>
            {
                ["ASPNETCORE_ENVIRONMENT"] = options.ApiEnvironment,
                ["Kestrel__Endpoints__http__Url"] = "http://127.0.0.1:0",
                ["Kestrel__Endpoints__h2c__Url"] = "http://127.0.0.1:0",
                ["StreamTickets__SigningKey"] = _ticketKey,
                ["Streaming__Server__Http2MaxStreamsPerConnection"] = "5000",
                ["DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS"] = "1", // as the AppHost sets it
            };
            if (options.AuthMode != AuthMode.None && options.ApiEnvironment == "Development")
            {
                (env["DevelopmentIssuer__Issuer"], env["DevelopmentIssuer__Audience"], env["DevelopmentIssuer__SigningKey"]) = (Tokens.Issuer, Tokens.Audience, _jwtKey);
            }

            if (publishHook)
                (env["Streaming__Sampler__Enabled"], env["DOTNET_STARTUP_HOOKS"], env["Bench__PublishRate"]) = ("false", options.Dll("bench/PublishHook"), rate.ToString(CultureInfo.InvariantCulture));
            else
                env["Streaming__Sampler__Interval"] = TimeSpan.FromSeconds(1 / rate).ToString("c", CultureInfo.InvariantCulture); // the sampler's own bound: ≥ 100 ms

            // edge-redis: a fresh, private, memory-only redis-server (OS-chosen free port on 127.0.0.1, random password, no RDB or AOF).
            var (port, password) = (LoopbackPort.Free(), Convert.ToHexString(RandomNumberGenerator.GetBytes(24)));
            var redis = name != "edge-redis" ? null : Registry.Start("redis-server", options.RedisServer,
                ["--bind", "127.0.0.1", "--port", port.ToString(CultureInfo.InvariantCulture), "--save", "", "--appendonly", "no", "--requirepass", password], directory: options.ResultsDir);
            if (redis is not null)
            {
                started.Add(redis);
                await redis.WaitForPortsAsync(TimeSpan.FromSeconds(20), port);
                (env["Streaming__Backplane"], env["ConnectionStrings__redis"]) = ("Redis", $"127.0.0.1:{port},password={password}");
            }

            var apis = new List<(Uri Http, Uri H2c)>();
            for (var i = 0; i < (redis is null ? 1 : 2); i++)
            {
                var api = await StartDotnetAsync("metrics-api", "Metrics.Api", new(env) { ["OTEL_RESOURCE_ATTRIBUTES"] = $"service.instance.id=metrics-api-{i}" }, options.ApiEnv);
                apis.Add(await SplitAsync(api));
            }

            var apiStream = new Uri(apis[0].H2c, "/api/stream/metrics");
            var probe = Load(apiStream, options.AuthMode == AuthMode.None ? AuthMode.None : AuthMode.Bearer) with { FirstStream = 900_000_000 };
            Func<Task<int[]?>> reported = async () => await Probe.OpenByInstanceAsync(probe, apis.Count) is { Length: > 0 } open ? [open[0] - 1, .. open[1..]] : null; // minus the probe
            return name == "api"
                ? new RunningTarget(Load(apiStream, options.AuthMode), [.. started], started, null, reported)
                : new RunningTarget(Load(new Uri((await StartEdgeAsync([.. apis.Select(a => a.H2c)], apis[0].Http)).Https, "/api/stream/metrics"), options.AuthMode),
                    [.. started.Where(c => c != redis)], started, null, reported, redis, apis.Count);
        }
        catch
        {
            await Registry.StopAsync(started);
            throw;
        }
    }

    /// <summary>Kestrel reports both cleartext endpoints; the HTTP/2-only one (h2c) is the one an HTTP/1.1 request cannot use.</summary>
    private static async Task<(Uri Http1, Uri H2c)> SplitAsync((ServerProcess Server, IReadOnlyList<Uri> Listening) server)
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var (http1, h2c) = ((Uri?)null, (Uri?)null);
        foreach (var address in server.Listening.Where(u => u.Scheme == Uri.UriSchemeHttp))
        {
            try
            {
                using var response = await client.GetAsync(new Uri(address, "/alive"));
                (http1, h2c) = response.IsSuccessStatusCode ? (address, h2c) : (http1, address);
            }
            catch (HttpRequestException)
            {
                h2c = address;
            }
        }

        return http1 is not null && h2c is not null ? (http1, h2c)
            : throw new InvalidOperationException($"{server.Server.Name}: cannot tell HTTP/1.1 from h2c among {string.Join(", ", server.Listening)}.");
    }

    private static async Task<int[]?> NchanSubscribersAsync(Uri status)
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var line = (await client.GetStringAsync(status)).Split('\n').FirstOrDefault(l => l.StartsWith("subscribers:", StringComparison.Ordinal));
        return line is null ? null : [int.Parse(line["subscribers:".Length..].Trim(), CultureInfo.InvariantCulture)];
    }
}

/// <summary>One stream that reads a server's own <c>metrics</c> samples (Metrics.Api: allocations, heap, open streams).</summary>
public static class Probe
{
    /// <summary>Opens a probe stream that hands every sample's JSON to <paramref name="onSample"/> until the engine is disposed.</summary>
    public static async Task<LoadEngine> StartAsync(LoadOptions options, Action<string> onSample)
    {
        var engine = new LoadEngine(options);
        if (await (await engine.ProbeAsync(onSample)).FirstFrame) return engine;
        await engine.DisposeAsync();
        throw new InvalidOperationException($"The probe stream to {options.Url} did not open: {LoadReport.Causes(engine.Failures.Snapshot())}.");
    }

    /// <summary>The open streams each of <paramref name="replicas"/> replicas reports (its <c>instanceId</c>'s order; with Redis every stream hears every replica's samples).</summary>
    public static async Task<int[]> OpenByInstanceAsync(LoadOptions options, int replicas)
    {
        var open = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var all = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var engine = await StartAsync(options, s =>
        {
            var at = s.IndexOf("\"instanceId\":\"", StringComparison.Ordinal) + 14;
            lock (open)
            {
                if (Field(s, "open") is { } n) open[at < 14 ? "" : s[at..s.IndexOf('"', at)]] = (int)n;
                if (open.Count >= replicas) all.TrySetResult();
            }
        });
        await all.Task.WaitAsync(TimeSpan.FromSeconds(10));
        lock (open) return [.. open.Values];
    }

    /// <summary>The number after <c>"name":</c> in a sample's JSON.</summary>
    public static double? Field(string json, string name)
    {
        var at = json.IndexOf($"\"{name}\":", StringComparison.Ordinal) + name.Length + 3;
        var end = at < name.Length + 3 ? -1 : json.IndexOfAny([',', '}'], at);
        return end > at && double.TryParse(json.AsSpan(at, end - at), CultureInfo.InvariantCulture, out var value) ? value : null;
    }
}

/// <summary>
/// nginx + nchan as the peer: its configuration (one channel, a POST publisher, EventSource over HTTP/1.1 and HTTP/2 over TLS), and
/// a publisher on an absolute schedule, one POST per event, a payload shaped like Metrics.Api's sample, timestamped just before the POST.
/// </summary>
public sealed class NchanPublisher : IAsyncDisposable
{
    private readonly HttpClient _client = new(new SocketsHttpHandler { UseProxy = false, PooledConnectionIdleTimeout = TimeSpan.FromMinutes(10) });
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    public NchanPublisher(Uri url, double rate) => _loop = Task.Run(() => RunAsync(url, rate));

    public static string WriteConfig(string dir, string nchanModule, int h1Port, int h2Port, string certificates, int streamsPerConnection, int openFiles)
    {
        foreach (var temp in new[] { "body", "proxy", "fastcgi", "uwsgi", "scgi" }) Directory.CreateDirectory(Path.Combine(dir, temp));
        var path = Path.Combine(dir, "nginx.conf");
        File.WriteAllText(path, string.Create(CultureInfo.InvariantCulture, $$"""
            # Written by bench/LoadTool for one benchmark scenario; removed with the run's results folder.
            load_module {{nchanModule}};
            daemon off;
            master_process on;
            worker_processes 2; # two cores: one worker per core, as `auto` would choose
            worker_rlimit_nofile {{openFiles}};
            pid {{dir}}/nginx.pid;
            error_log {{dir}}/error.log warn;
            events { worker_connections {{Math.Max(1024, openFiles - 200)}}; }
            http {
                access_log off;
                client_body_temp_path {{dir}}/body; proxy_temp_path {{dir}}/proxy; fastcgi_temp_path {{dir}}/fastcgi; uwsgi_temp_path {{dir}}/uwsgi; scgi_temp_path {{dir}}/scgi;
                http2_max_concurrent_streams {{streamsPerConnection}}; # the same number every HTTP/2 target gets
                keepalive_requests 10000000; # churn reuses HTTP/2 connections for many streams; the default closes them every 1,000
                server {
                    listen 127.0.0.1:{{h1Port}} reuseport backlog=4096; # reuseport: the kernel spreads connections over both workers
                    listen 127.0.0.1:{{h2Port}} ssl http2 reuseport backlog=4096;
                    ssl_certificate {{certificates}}/bench.crt; ssl_certificate_key {{certificates}}/bench.key; ssl_protocols TLSv1.2 TLSv1.3;
                    location = /pub { allow 127.0.0.1; deny all; nchan_publisher; nchan_channel_id metrics; nchan_message_buffer_length 10; nchan_message_timeout 60s; }
                    # New subscribers wait for the next message, as Metrics.Api's live stream does; the same 15 s heartbeat as Metrics.Api.
                    location = /sub { nchan_subscriber eventsource; nchan_channel_id metrics; nchan_subscriber_first_message newest; nchan_eventsource_event metrics; nchan_eventsource_ping_interval 15; }
                    location = /nchan_status { allow 127.0.0.1; deny all; nchan_stub_status; }
                }
            }
            """));
        return path;
    }

    /// <summary>A Metrics.Api-shaped sample (same fields, realistic values, ~390 bytes).</summary>
    public static string Payload(long timestamp, long sequence) => string.Create(CultureInfo.InvariantCulture,
        $$$"""{"timestamp":{{{timestamp}}},"instanceId":"nchan","process":{"cpuPercent":{{{(sequence % 997) / 10.0:F2}}},"workingSetBytes":{{{100_425_728 + (sequence % 4096)}}},"gcHeapBytes":{{{3_021_776 + (sequence % 65536)}}},"allocatedBytes":{{{9_327_128 + (sequence * 512)}}},"threadPoolQueueLength":0,"threadPoolThreads":3},"host":{"source":"proc","cpuPercent":{{{(sequence % 89) / 10.0:F1}}},"cpuLimitCores":2,"memoryUsedBytes":3468103680,"memoryLimitBytes":25276502016},"streams":{"open":1000,"users":200,"eventsPerSecond":{{{sequence % 1000}}}.5}}""");

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        _client.Dispose();
        _stop.Dispose();
    }

    private async Task RunAsync(Uri url, double rate)
    {
        var start = Stopwatch.GetTimestamp();
        long sequence = 0;
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                for (var due = (long)(Stopwatch.GetElapsedTime(start).TotalSeconds * rate) + 1; sequence < due; sequence++)
                {
                    using var content = new StringContent(Payload(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), sequence));
                    content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                    try
                    {
                        using var response = await _client.PostAsync(url, content, _stop.Token);
                    }
                    catch (HttpRequestException)
                    {
                        // nginx not up yet or going away: the next event is published on schedule.
                    }
                }

                var next = TimeSpan.FromSeconds(sequence / rate) - Stopwatch.GetElapsedTime(start);
                await Task.Delay(next > TimeSpan.Zero ? next : TimeSpan.Zero, _stop.Token);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}
