using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using LoadTool.Load;

namespace LoadTool.Suite;

/// <summary>A system under test, running: where to point the load, which processes to measure.</summary>
public sealed class RunningTarget : IAsyncDisposable
{
    public required TargetDescription Description { get; init; }

    public required Uri StreamUrl { get; init; }

    public required Version HttpVersion { get; init; }

    public required AuthMode Auth { get; init; }

    public required IReadOnlyList<ServerProcess> Servers { get; init; }

    public NchanPublisher? Publisher { get; init; }

    /// <summary>Open streams as the server itself counts them (null where it cannot say).</summary>
    public Func<Task<int?>> ReportedOpenStreams { get; init; } = () => Task.FromResult<int?>(null);

    /// <summary>The API process (for profiles), when the target has one.</summary>
    public ServerProcess? Api { get; init; }

    public ServerProcess? Edge { get; init; }

    public IReadOnlyList<int> Pids => [.. Servers.Select(s => s.Pid)];

    public async ValueTask DisposeAsync()
    {
        if (Publisher is not null)
        {
            await Publisher.DisposeAsync();
        }

        foreach (var server in Servers.Reverse())
        {
            await server.DisposeAsync();
        }
    }
}

/// <summary>
/// Starts each target fresh for every scenario (so one scenario's heap never hides the next one's growth):
/// edge = Edge.Proxy + Metrics.Api (HTTP/2 over TLS at the edge, h2c to the API, as the AppHost wires them);
/// api = Metrics.Api alone over h2c; nchan-h1 / nchan-h2 = nginx with the nchan module over HTTP/1.1 or HTTP/2
/// over TLS, fed by <see cref="NchanPublisher"/>; naive = bench/NaiveSse over h2c.
/// </summary>
public sealed class TargetFactory
{
    public const string JwtIssuer = "https://bench.local/dev-issuer";
    public const string JwtAudience = "metrics-api";
    private const string CertificatePassword = "bench";

    private readonly SuiteOptions _options;
    private readonly ProcessRegistry _registry;
    private readonly string _certificatePfx;
    private readonly string _certificatePem;
    private readonly string _keyPem;

    public TargetFactory(SuiteOptions options, ProcessRegistry registry)
    {
        _options = options;
        _registry = registry;
        // Fresh random keys per run: the suite mints the access tokens, the API trusts them.
        JwtKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(48));
        TicketKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(48));
        var certificates = Path.Combine(options.ResultsDir, "tls");
        Directory.CreateDirectory(certificates);
        (_certificatePfx, _certificatePem, _keyPem, CertificateSha256) = CreateCertificate(certificates);
    }

    public string JwtKey { get; }

    /// <summary>Profile pass only: .NET services write perf maps (DOTNET_PerfMapEnabled) so perf can name JIT-compiled frames.</summary>
    public bool PerfMaps { get; set; }

    public string TicketKey { get; }

    /// <summary>The benchmark's self-signed certificate (edge and nginx use the same RSA 2048 key); the client pins it.</summary>
    public string CertificateSha256 { get; }

    public static TargetDescription Describe(string name, AuthMode auth) => name switch
    {
        "edge" => new(name, "Whole system through the edge", "HTTP/2 over TLS to Edge.Proxy (YARP), h2c to Metrics.Api", auth.ToString().ToLowerInvariant(), "Metrics.Api + Edge.Proxy", Ours: true),
        "api" => new(name, "Metrics.Api direct", "h2c (HTTP/2 cleartext)", auth.ToString().ToLowerInvariant(), "Metrics.Api", Ours: true),
        "nchan-h1" => new(name, "nginx + nchan, HTTP/1.1", "HTTP/1.1 EventSource, one connection per stream", "none", "nginx master + 2 workers", Ours: false),
        "nchan-h2" => new(name, "nginx + nchan, HTTP/2", "HTTP/2 over TLS (same transport as the edge)", "none", "nginx master + 2 workers", Ours: false),
        "naive" => new(name, "Naive ASP.NET Core SSE", "h2c (HTTP/2 cleartext)", "none", "NaiveSse", Ours: false),
        _ => throw new ArgumentException($"Unknown target '{name}'. Known: {string.Join(", ", SuiteOptions.AllTargets)}."),
    };

    /// <summary>Starts <paramref name="name"/> publishing <paramref name="rate"/> events/s.</summary>
    /// <param name="publishHook">Metrics.Api publishes through the benchmark hook (any rate) instead of its sampler (≤ 10/s).</param>
    public async Task<RunningTarget> StartAsync(string name, double rate, bool publishHook)
    {
        var description = Describe(name, _options.Auth);
        switch (name)
        {
            case "api":
            {
                var api = await StartApiAsync(rate, publishHook);
                return new RunningTarget
                {
                    Description = description,
                    StreamUrl = new Uri(ApiH2c(api), "/api/stream/metrics"),
                    HttpVersion = HttpVersion.Version20,
                    Auth = _options.Auth,
                    Servers = [api],
                    Api = api,
                    ReportedOpenStreams = () => ApiOpenStreamsAsync(ApiH2c(api)),
                };
            }

            case "edge":
            {
                var api = await StartApiAsync(rate, publishHook);
                ServerProcess edge;
                try
                {
                    edge = await StartEdgeAsync(ApiH2c(api), ApiHttp(api));
                }
                catch
                {
                    await api.DisposeAsync();
                    throw;
                }

                var https = edge.ListeningOn.Single(u => u.Scheme == Uri.UriSchemeHttps);
                return new RunningTarget
                {
                    Description = description,
                    StreamUrl = new Uri(https, "/api/stream/metrics"),
                    HttpVersion = HttpVersion.Version20,
                    Auth = _options.Auth,
                    Servers = [api, edge],
                    Api = api,
                    Edge = edge,
                    ReportedOpenStreams = () => ApiOpenStreamsAsync(ApiH2c(api)),
                };
            }

            case "nchan-h1":
            case "nchan-h2":
            {
                var (nginx, h1Port, h2Port) = await StartNginxAsync();
                var publisher = new NchanPublisher(new Uri($"http://127.0.0.1:{h1Port}/pub"), rate);
                var h2 = name == "nchan-h2";
                return new RunningTarget
                {
                    Description = description,
                    StreamUrl = h2 ? new Uri($"https://127.0.0.1:{h2Port}/sub") : new Uri($"http://127.0.0.1:{h1Port}/sub"),
                    HttpVersion = h2 ? HttpVersion.Version20 : HttpVersion.Version11,
                    Auth = AuthMode.None,
                    Servers = [nginx],
                    Publisher = publisher,
                    ReportedOpenStreams = () => NchanSubscribersAsync(new Uri($"http://127.0.0.1:{h1Port}/nchan_status")),
                };
            }

            case "naive":
            {
                var naive = await StartNaiveAsync(rate);
                return new RunningTarget
                {
                    Description = description,
                    StreamUrl = new Uri(naive.ListeningOn[0], "/sse"),
                    HttpVersion = HttpVersion.Version20,
                    Auth = AuthMode.None,
                    Servers = [naive],
                };
            }

            default:
                throw new ArgumentException($"Unknown target '{name}'.");
        }
    }

    /// <summary>The load options for a target (the worker processes get these).</summary>
    public LoadOptions LoadOptionsFor(RunningTarget target) => new()
    {
        Url = target.StreamUrl,
        HttpVersion = target.HttpVersion,
        StreamsPerConnection = _options.StreamsPerConnection,
        // HTTP/1.1 holds one port per stream: spread the client over 127.0.0.1-8.
        SourceAddresses = target.HttpVersion.Major == 1 ? 8 : 1,
        OpenConcurrency = _options.OpenConcurrency,
        OpenTimeout = TimeSpan.FromSeconds(_options.OpenTimeoutSeconds),
        EventType = "metrics",
        Auth = target.Auth,
        StreamsPerUser = _options.StreamsPerUser,
        JwtIssuer = JwtIssuer,
        JwtAudience = JwtAudience,
        JwtKey = JwtKey,
        PinnedCertificateSha256 = target.StreamUrl.Scheme == Uri.UriSchemeHttps ? CertificateSha256 : null,
    };

    private static Uri ApiH2c(ServerProcess api) => api.H2cUrl!;

    private static Uri ApiHttp(ServerProcess api) => api.ListeningOn.First(u => u.Scheme == Uri.UriSchemeHttp && u != api.H2cUrl);

    private async Task<ServerProcess> StartApiAsync(double rate, bool publishHook)
    {
        var env = new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["ASPNETCORE_ENVIRONMENT"] = _options.ApiEnvironment,
            ["Kestrel__Endpoints__http__Url"] = "http://127.0.0.1:0",
            ["Kestrel__Endpoints__h2c__Url"] = "http://127.0.0.1:0",
            ["Logging__LogLevel__Default"] = "Warning",
            ["Logging__LogLevel__Microsoft.Hosting.Lifetime"] = "Information",
            ["StreamTickets__SigningKey"] = TicketKey,
            ["Streaming__Server__Http2MaxStreamsPerConnection"] = "5000",
        };
        if (_options.Auth != AuthMode.None && _options.ApiEnvironment == "Development")
        {
            env["DevelopmentIssuer__Issuer"] = JwtIssuer;
            env["DevelopmentIssuer__Audience"] = JwtAudience;
            env["DevelopmentIssuer__SigningKey"] = JwtKey;
        }

        if (publishHook)
        {
            env["Streaming__Sampler__Enabled"] = "false";
            env["DOTNET_STARTUP_HOOKS"] = _options.PublishHookDll;
            env["Bench__PublishRate"] = rate.ToString(CultureInfo.InvariantCulture);
        }
        else
        {
            env["Streaming__Sampler__Interval"] = TimeSpan.FromSeconds(1 / rate).ToString("c", CultureInfo.InvariantCulture);
        }

        foreach (var (key, value) in SuiteOptions.ParseEnv(_options.ApiEnv))
        {
            env[key] = value;
        }

        if (PerfMaps)
        {
            env["DOTNET_PerfMapEnabled"] = "1";
            // W^X double-maps JIT code through memfd, which perf cannot match with the perf map.
            env["DOTNET_EnableWriteXorExecute"] = "0";
        }

        var api = ServerProcess.Start("metrics-api", _options.Dotnet, [_options.ApiDll], env, Path.GetDirectoryName(_options.ApiDll)!, _registry);
        try
        {
            await api.WaitStartedAsync(TimeSpan.FromSeconds(60));
            api.H2cUrl = await FindH2cAsync(api);
            return api;
        }
        catch
        {
            await api.DisposeAsync();
            throw;
        }
    }

    /// <summary>Kestrel reports both cleartext endpoints; the HTTP/2-only one is the one an HTTP/1.1 request cannot use.</summary>
    private static async Task<Uri> FindH2cAsync(ServerProcess server)
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        foreach (var address in server.ListeningOn.Where(u => u.Scheme == Uri.UriSchemeHttp))
        {
            try
            {
                using var response = await client.GetAsync(new Uri(address, "/alive"));
                if (response.IsSuccessStatusCode)
                {
                    continue;
                }
            }
            catch (HttpRequestException)
            {
            }

            return address;
        }

        throw new InvalidOperationException($"{server.Name}: no h2c endpoint among {string.Join(", ", server.ListeningOn)}.");
    }

    private async Task<ServerProcess> StartEdgeAsync(Uri apiH2c, Uri apiHttp)
    {
        var env = new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["Kestrel__Endpoints__http__Url"] = "http://127.0.0.1:0",
            ["Kestrel__Endpoints__h2c__Url"] = "http://127.0.0.1:0",
            ["Kestrel__Endpoints__https__Url"] = "https://127.0.0.1:0",
            ["Kestrel__Endpoints__https__Protocols"] = "Http1AndHttp2",
            ["Kestrel__Certificates__Default__Path"] = _certificatePfx,
            ["Kestrel__Certificates__Default__Password"] = CertificatePassword,
            ["services__metrics-api__h2c__0"] = apiH2c.ToString(),
            // The dashboard route is not exercised; the edge only needs a resolvable destination for it.
            ["services__dashboard-web__http__0"] = apiHttp.ToString(),
            ["Edge__Server__Http2MaxStreamsPerConnection"] = Math.Max(100, _options.StreamsPerConnection).ToString(CultureInfo.InvariantCulture),
            ["Logging__LogLevel__Default"] = "Warning",
            ["Logging__LogLevel__Microsoft.Hosting.Lifetime"] = "Information",
        };
        foreach (var (key, value) in SuiteOptions.ParseEnv(_options.EdgeEnv))
        {
            env[key] = value;
        }

        if (PerfMaps)
        {
            env["DOTNET_PerfMapEnabled"] = "1";
            // W^X double-maps JIT code through memfd, which perf cannot match with the perf map.
            env["DOTNET_EnableWriteXorExecute"] = "0";
        }

        var edge = ServerProcess.Start("edge-proxy", _options.Dotnet, [_options.EdgeDll], env, Path.GetDirectoryName(_options.EdgeDll)!, _registry);
        try
        {
            await edge.WaitStartedAsync(TimeSpan.FromSeconds(60));
            return edge;
        }
        catch
        {
            await edge.DisposeAsync();
            throw;
        }
    }

    private async Task<ServerProcess> StartNaiveAsync(double rate)
    {
        var env = new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["Kestrel__Endpoints__h2c__Url"] = "http://127.0.0.1:0",
            ["Kestrel__Endpoints__h2c__Protocols"] = "Http2",
            ["Kestrel__Limits__Http2__MaxStreamsPerConnection"] = _options.StreamsPerConnection.ToString(CultureInfo.InvariantCulture),
            ["Kestrel__Limits__MaxConcurrentConnections"] = "100000",
            ["IntervalMs"] = (1000 / rate).ToString(CultureInfo.InvariantCulture),
        };
        var naive = ServerProcess.Start("naive-sse", _options.Dotnet, [_options.NaiveDll], env, Path.GetDirectoryName(_options.NaiveDll)!, _registry);
        try
        {
            await naive.WaitStartedAsync(TimeSpan.FromSeconds(60));
            return naive;
        }
        catch
        {
            await naive.DisposeAsync();
            throw;
        }
    }

    private async Task<(ServerProcess Nginx, int H1Port, int H2Port)> StartNginxAsync()
    {
        var dir = Path.Combine(_options.ResultsDir, "nginx", Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        var h1 = ServerProcess.FreePort();
        var h2 = ServerProcess.FreePort();
        var config = NginxConfig.Write(dir, _options.NchanModule, h1, h2, _certificatePem, _keyPem, _options.StreamsPerConnection, OpenFilesLimit());
        var nginx = ServerProcess.Start("nginx", _options.Nginx, ["-c", config, "-p", dir + "/", "-e", Path.Combine(dir, "error.log")], new Dictionary<string, string?>(), dir, _registry, startedMarker: null);
        try
        {
            await nginx.WaitForPortAsync(h1, TimeSpan.FromSeconds(20));
            await nginx.WaitForPortAsync(h2, TimeSpan.FromSeconds(20));
            await Task.Delay(200); // let the master fork its workers, then record them for run.sh's clean-up
            foreach (var pid in ProcStats.WithDescendants([nginx.Pid]).Skip(1))
            {
                _registry.Record(pid);
            }

            return (nginx, h1, h2);
        }
        catch (Exception ex)
        {
            var log = Path.Combine(dir, "error.log");
            await nginx.DisposeAsync();
            throw new InvalidOperationException($"nginx did not start: {ex.Message}\n{(File.Exists(log) ? await File.ReadAllTextAsync(log) : "")}", ex);
        }
    }

    /// <summary>The soft RLIMIT_NOFILE this process (and so every server it starts) has.</summary>
    public static int OpenFilesLimit()
    {
        foreach (var line in File.ReadLines("/proc/self/limits"))
        {
            if (line.StartsWith("Max open files", StringComparison.Ordinal))
            {
                var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                return int.TryParse(parts[3], CultureInfo.InvariantCulture, out var soft) ? soft : 1024;
            }
        }

        return 1024;
    }

    /// <summary>Streams the API reports open (its own <c>streams.open</c> sample field), minus the probe itself.</summary>
    private async Task<int?> ApiOpenStreamsAsync(Uri h2c)
    {
        var options = new LoadOptions
        {
            Url = new Uri(h2c, "/api/stream/metrics"),
            Auth = _options.Auth == AuthMode.None ? AuthMode.None : AuthMode.Bearer,
            JwtIssuer = JwtIssuer,
            JwtAudience = JwtAudience,
            JwtKey = JwtKey,
            FirstStream = 900_000_000,
        };
        using var transport = new Transport(options);
        var invoker = transport.For(0);
        var (request, _) = await new Credentials(options).CreateStreamRequestAsync(transport, invoker, 900_000_000, CancellationToken.None);
        if (request is null)
        {
            return null;
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            using (request)
            using (var response = await invoker.SendAsync(request, timeout.Token))
            {
                using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(timeout.Token), Encoding.UTF8);
                var isMetrics = false;
                while (await reader.ReadLineAsync(timeout.Token) is { } line)
                {
                    if (line.StartsWith("event:", StringComparison.Ordinal))
                    {
                        isMetrics = line.EndsWith("metrics", StringComparison.Ordinal);
                    }
                    else if (isMetrics && line.StartsWith("data:", StringComparison.Ordinal))
                    {
                        var at = line.IndexOf("\"open\":", StringComparison.Ordinal);
                        var end = at < 0 ? -1 : line.IndexOfAny([',', '}'], at);
                        return at < 0 || end < 0 ? null : int.Parse(line[(at + 7)..end], CultureInfo.InvariantCulture) - 1;
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
        }

        return null;
    }

    private static async Task<int?> NchanSubscribersAsync(Uri status)
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var text = await client.GetStringAsync(status);
        foreach (var line in text.Split('\n'))
        {
            if (line.StartsWith("subscribers:", StringComparison.Ordinal))
            {
                return int.Parse(line["subscribers:".Length..].Trim(), CultureInfo.InvariantCulture);
            }
        }

        return null;
    }

    private static (string Pfx, string CertPem, string KeyPem, string Sha256) CreateCertificate(string dir)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(2));
        var pfx = Path.Combine(dir, "bench.pfx");
        var certPem = Path.Combine(dir, "bench.crt");
        var keyPem = Path.Combine(dir, "bench.key");
        File.WriteAllBytes(pfx, certificate.Export(X509ContentType.Pfx, CertificatePassword));
        File.WriteAllText(certPem, certificate.ExportCertificatePem());
        File.WriteAllText(keyPem, key.ExportPkcs8PrivateKeyPem());
        return (pfx, certPem, keyPem, Convert.ToHexString(SHA256.HashData(certificate.RawData)));
    }
}
