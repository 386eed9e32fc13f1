using System.Diagnostics.Metrics;
using Metrics.Api.Streaming;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;
using Tests.Shared;

namespace Metrics.Api.Tests.Infrastructure;

/// <summary>
/// Metrics.Api in this process on real Kestrel sockets: both endpoints (HTTP/1.1 and h2c) on
/// 127.0.0.1 with OS-chosen ports. The sampler is off unless a test turns it on, so ids are the test's.
/// Streams need a token: the test identity provider is configured (<see cref="TestTokens.BearerSettings"/>),
/// and the clients made here send <see cref="TestTokens.DefaultAccessToken"/> unless told otherwise. The
/// per-user stream limit and the ticket rate limit are lifted unless a test sets them.
/// </summary>
public sealed class TestApp : IAsyncDisposable
{
    private readonly Factory _factory;
    private readonly MetricCollector<long> _activeStreams;

    private TestApp(Factory factory, Uri http1, Uri h2c)
    {
        _factory = factory;
        Http1Address = http1;
        H2cAddress = h2c;
        _activeStreams = new MetricCollector<long>(
            factory.Services.GetRequiredService<IMeterFactory>(), StreamMetrics.MeterName, StreamMetrics.ActiveStreamsName);
    }

    public Uri Http1Address { get; }

    public Uri H2cAddress { get; }

    public IServiceProvider Services => _factory.Services;

    public LogSink Logs => _factory.Logs;

    public IEventHub Hub => Services.GetRequiredService<IEventHub>();

    public StreamSubscribers Subscribers => Services.GetRequiredService<StreamSubscribers>();

    /// <summary>Streams allocated since the app started (every +1 of <c>sse.server.active_streams</c>).</summary>
    public int StreamsOpened => _activeStreams.GetMeasurementSnapshot().Count(m => m.Value > 0);

    /// <summary>The settings every test app gets before the test's own.</summary>
    public static Dictionary<string, string?> BaseSettings()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Kestrel:Endpoints:http:Url"] = "http://127.0.0.1:0",
            ["Kestrel:Endpoints:h2c:Url"] = "http://127.0.0.1:0",
            ["Streaming:Sampler:Enabled"] = "false",
            ["StreamTickets:SigningKey"] = Convert.ToBase64String(TestTokens.TicketKey),
            ["Streaming:Limits:MaxStreamsPerUser"] = "1000000",
            ["StreamTickets:RateLimit:TokenLimit"] = "10000",
        };
        foreach (var (key, value) in TestTokens.BearerSettings())
        {
            settings[key] = value;
        }

        return settings;
    }

    public static async Task<TestApp> StartAsync(
        IReadOnlyDictionary<string, string?>? settings = null,
        Action<IServiceCollection>? configureServices = null,
        string environment = "Development")
    {
        var merged = BaseSettings();
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            merged[key] = value;
        }

        Factory factory;
        for (var attempt = 1; ; attempt++)
        {
            factory = new Factory(merged, configureServices, environment);
            factory.UseKestrel();
            try
            {
                await HostStartGate.StartServerAsync("Metrics.Api", factory.StartServer, () => factory.Logs.Everything);
                break;
            }
            catch (ObjectDisposedException) when (attempt < 5)
            {
                // WebApplicationFactory race: when the app fails to start, its host can be disposed before the
                // factory reads the outcome, hiding the real start-up exception. Start again to get it. (Not the
                // inotify limit: that fails the build of the app's configuration, as an IOException.)
                await factory.DisposeAsync();
            }
            catch
            {
                await factory.DisposeAsync();
                throw;
            }
        }

        FileWatching.EnsureOff(factory.Services);

        // Two OS-chosen ports; only the HTTP/1.1 one answers an HTTP/1.1 request with 200.
        var addresses = factory.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>()
            .Addresses.Select(a => new Uri(a)).ToArray();
        Uri? http1 = null;
        Uri? h2c = null;
        foreach (var address in addresses)
        {
            using var probe = StreamClients.Http1(address);
            using var response = await probe.GetAsync(new Uri("/alive", UriKind.Relative));
            if (response.IsSuccessStatusCode)
            {
                http1 = address;
            }
            else
            {
                h2c = address;
            }
        }

        return new TestApp(
            factory,
            http1 ?? throw new InvalidOperationException("No HTTP/1.1 endpoint."),
            h2c ?? throw new InvalidOperationException("No h2c endpoint."));
    }

    /// <summary>HTTP/1.1, sending <see cref="TestTokens.DefaultAccessToken"/>.</summary>
    public HttpClient CreateHttp1Client() => StreamClients.Http1(Http1Address, TestTokens.DefaultAccessToken);

    /// <summary>h2c, sending <see cref="TestTokens.DefaultAccessToken"/>.</summary>
    public HttpClient CreateH2cClient() => StreamClients.H2c(H2cAddress, TestTokens.DefaultAccessToken);

    /// <summary>HTTP/1.1 with this access token (null: no Authorization header).</summary>
    public HttpClient CreateHttp1Client(string? accessToken) => StreamClients.Http1(Http1Address, accessToken);

    /// <summary>h2c with this access token (null: no Authorization header).</summary>
    public HttpClient CreateH2cClient(string? accessToken) => StreamClients.H2c(H2cAddress, accessToken);

    /// <summary>Nothing was allocated for a stream: no subscription now and none ever opened.</summary>
    public void AssertNoStreamAllocated()
    {
        Assert.Equal(0, Subscribers.Count);
        Assert.Equal(0, StreamsOpened);
    }

    public async Task<long> PublishAsync(string eventType = "metrics", string data = "{}") =>
        await Hub.PublishAsync(eventType, System.Text.Encoding.UTF8.GetBytes(data));

    public async ValueTask DisposeAsync()
    {
        _activeStreams.Dispose();
        await _factory.DisposeAsync();
    }

    private sealed class Factory(IReadOnlyDictionary<string, string?> settings, Action<IServiceCollection>? configureServices, string environment)
        : WebApplicationFactory<Program>
    {
        public LogSink Logs { get; } = new();

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            builder.UseEnvironment(environment);
            builder.WatchNoFiles();
            // Program.cs reads some settings while registering services (Streaming:Backplane decides what is
            // registered), before app configuration from here is applied; host settings are there from the start.
            foreach (var (key, value) in settings)
            {
                if (value is not null)
                {
                    builder.UseSetting(key, value);
                }
            }

            builder.ConfigureAppConfiguration(config => config.AddInMemoryCollection(settings));
            builder.ConfigureLogging(logging => logging.AddProvider(Logs));
            if (configureServices is not null)
            {
                builder.ConfigureTestServices(configureServices);
            }
        }
    }
}
