extern alias MetricsApi;

using System.Net;
using Metrics.Api.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Tests.Shared;

namespace Edge.Proxy.Tests.Infrastructure;

/// <summary>
/// The real Metrics.Api (its Program, its limits) on real Kestrel sockets, to stand behind the real edge: both
/// endpoints on 127.0.0.1 with OS-chosen ports, the test identity provider of <see cref="TestTokens"/>, a ping on
/// every stream every <see cref="HeartbeatInterval"/> (so a test sees a stream is alive), the sampler off.
/// </summary>
public sealed class MetricsApiHost : IAsyncDisposable
{
    public static readonly TimeSpan HeartbeatInterval = TimeSpan.FromMilliseconds(200);

    private readonly Factory _factory;

    private MetricsApiHost(Factory factory, Uri http1, Uri h2c)
    {
        _factory = factory;
        Http1Url = http1;
        H2cUrl = h2c;
    }

    public Uri Http1Url { get; }

    public Uri H2cUrl { get; }

    public LogCapture Logs => _factory.Logs;

    public static async Task<MetricsApiHost> StartAsync()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Kestrel:Endpoints:http:Url"] = "http://127.0.0.1:0",
            ["Kestrel:Endpoints:h2c:Url"] = "http://127.0.0.1:0",
            ["Streaming:Sampler:Enabled"] = "false",
            ["Streaming:HeartbeatInterval"] = HeartbeatInterval.ToString(),
            ["StreamTickets:SigningKey"] = Convert.ToBase64String(TestTokens.TicketKey),
            ["Streaming:Limits:MaxStreamsPerUser"] = "1000",
            ["StreamTickets:RateLimit:TokenLimit"] = "10000",
        };
        foreach (var (key, value) in TestTokens.BearerSettings())
        {
            settings[key] = value;
        }

        var factory = new Factory(settings);
        try
        {
            factory.UseKestrel();
            await HostStartGate.StartServerAsync("Metrics.Api", factory.StartServer, factory.Logs.Lines);
            FileWatching.EnsureOff(factory.Services);

            // Two OS-chosen ports; only the HTTP/1.1 one answers an HTTP/1.1 request with 200.
            var addresses = factory.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Select(a => new Uri(a)).ToList();
            using var probe = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
            Uri? http1 = null;
            Uri? h2c = null;
            foreach (var address in addresses)
            {
                using var response = await probe.GetAsync(new Uri(address, "/alive"));
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    http1 = address;
                }
                else
                {
                    h2c = address;
                }
            }

            return new MetricsApiHost(
                factory,
                http1 ?? throw new InvalidOperationException("Metrics.Api has no HTTP/1.1 endpoint."),
                h2c ?? throw new InvalidOperationException("Metrics.Api has no h2c endpoint."));
        }
        catch
        {
            await factory.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync() => await _factory.DisposeAsync();

    private sealed class Factory(IReadOnlyDictionary<string, string?> settings) : WebApplicationFactory<MetricsApi::Program>
    {
        public LogCapture Logs { get; } = new();

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            // As the AppHost runs it, watching no files (FileWatching).
            builder.UseEnvironment("Development");
            builder.WatchNoFiles();
            builder.ConfigureAppConfiguration((_, configuration) => configuration.AddInMemoryCollection(settings));
            builder.ConfigureLogging(logging => logging.AddProvider(Logs));
        }
    }
}
