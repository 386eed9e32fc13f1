using Metrics.Api.Streaming;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Metrics.Api.Tests.Infrastructure;

/// <summary>
/// Metrics.Api in this process on real Kestrel sockets: both endpoints (HTTP/1.1 and h2c) on
/// 127.0.0.1 with OS-chosen ports. The sampler is off unless a test turns it on, so ids are the test's.
/// </summary>
public sealed class TestApp : IAsyncDisposable
{
    private readonly Factory _factory;

    private TestApp(Factory factory, Uri http1, Uri h2c)
    {
        _factory = factory;
        Http1Address = http1;
        H2cAddress = h2c;
    }

    public Uri Http1Address { get; }

    public Uri H2cAddress { get; }

    public IServiceProvider Services => _factory.Services;

    public LogSink Logs => _factory.Logs;

    public IEventHub Hub => Services.GetRequiredService<IEventHub>();

    public StreamSubscribers Subscribers => Services.GetRequiredService<StreamSubscribers>();

    public static async Task<TestApp> StartAsync(
        IReadOnlyDictionary<string, string?>? settings = null,
        Action<IServiceCollection>? configureServices = null)
    {
        var merged = new Dictionary<string, string?>
        {
            ["Kestrel:Endpoints:http:Url"] = "http://127.0.0.1:0",
            ["Kestrel:Endpoints:h2c:Url"] = "http://127.0.0.1:0",
            ["Streaming:Sampler:Enabled"] = "false",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            merged[key] = value;
        }

        var factory = new Factory(merged, configureServices);
        factory.UseKestrel();
        try
        {
            factory.StartServer();
        }
        catch
        {
            await factory.DisposeAsync();
            throw;
        }

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

    public HttpClient CreateHttp1Client() => StreamClients.Http1(Http1Address);

    public HttpClient CreateH2cClient() => StreamClients.H2c(H2cAddress);

    public async Task<long> PublishAsync(string eventType = "metrics", string data = "{}") =>
        await Hub.PublishAsync(eventType, System.Text.Encoding.UTF8.GetBytes(data));

    public async ValueTask DisposeAsync() => await _factory.DisposeAsync();

    private sealed class Factory(IReadOnlyDictionary<string, string?> settings, Action<IServiceCollection>? configureServices)
        : WebApplicationFactory<Program>
    {
        public LogSink Logs { get; } = new();

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            builder.ConfigureAppConfiguration(config => config.AddInMemoryCollection(settings));
            builder.ConfigureLogging(logging => logging.AddProvider(Logs));
            if (configureServices is not null)
            {
                builder.ConfigureTestServices(configureServices);
            }
        }
    }
}
