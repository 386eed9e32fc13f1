using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Tests.Shared;

namespace Edge.Proxy.Tests.Infrastructure;

/// <summary>
/// The real edge (Edge.Proxy's Program) on real Kestrel sockets, configured the way the AppHost configures it:
/// Kestrel endpoint URLs, the run's certificate, and <c>services__*</c> entries for the upstreams.
/// </summary>
public sealed class EdgeHost : IAsyncDisposable
{
    private readonly Factory _factory;

    private EdgeHost(Factory factory) => _factory = factory;

    public Uri HttpUrl { get; private set; } = null!;

    public Uri H2cUrl { get; private set; } = null!;

    public Uri HttpsUrl { get; private set; } = null!;

    public LogCapture Logs => _factory.Logs;

    public IServiceProvider Services => _factory.Services;

    /// <summary>Settings every test edge gets: loopback endpoints with OS-chosen ports, the test certificate.</summary>
    public static Dictionary<string, string?> BaseSettings() => new()
    {
        ["Kestrel:Endpoints:http:Url"] = "http://127.0.0.1:0",
        ["Kestrel:Endpoints:h2c:Url"] = "http://127.0.0.1:0",
        ["Kestrel:Endpoints:https:Url"] = "https://127.0.0.1:0",
        ["Kestrel:Endpoints:https:Protocols"] = "Http1AndHttp2",
        ["Kestrel:Certificates:Default:Path"] = TestCertificate.PfxPath,
        ["Kestrel:Certificates:Default:Password"] = TestCertificate.Password,
    };

    /// <summary>Settings for an edge in front of <paramref name="upstream"/>, as both metrics-api (h2c) and dashboard-web.</summary>
    public static Dictionary<string, string?> SettingsFor(SseUpstream upstream)
    {
        var settings = BaseSettings();
        settings["services:metrics-api:h2c:0"] = upstream.Http2Url.ToString();
        settings["services:dashboard-web:http:0"] = upstream.Http1Url.ToString();
        return settings;
    }

    public static Task<EdgeHost> StartAsync(
        SseUpstream upstream,
        Action<Dictionary<string, string?>>? configure = null,
        string environment = "Development",
        Action<IServiceCollection>? configureServices = null)
    {
        var settings = SettingsFor(upstream);
        configure?.Invoke(settings);
        return StartAsync(settings, environment, configureServices);
    }

    public static async Task<EdgeHost> StartAsync(
        IReadOnlyDictionary<string, string?> settings, string environment = "Development", Action<IServiceCollection>? configureServices = null)
    {
        var factory = new Factory(settings, environment, configureServices);
        try
        {
            factory.UseKestrel();
            await HostStartGate.StartServerAsync("The edge", factory.StartServer, factory.Logs.Lines);
            FileWatching.EnsureOff(factory.Services);
            var edge = new EdgeHost(factory);
            await edge.FindEndpointsAsync();
            return edge;
        }
        catch
        {
            await factory.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync() => await _factory.DisposeAsync();

    /// <summary>
    /// Kestrel reports the bound addresses, not their endpoint names; the two cleartext ones are told apart by
    /// asking over HTTP/1.1, which the HTTP/2-only (h2c) endpoint refuses.
    /// </summary>
    private async Task FindEndpointsAsync()
    {
        var addresses = Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Select(a => new Uri(a)).ToList();
        var application = Services.GetRequiredService<IHostEnvironment>().ApplicationName;
        if (application != typeof(Program).Assembly.GetName().Name || addresses.Count(a => a.Scheme == Uri.UriSchemeHttps) != 1)
        {
            throw new InvalidOperationException(
                $"The factory's host is not the edge as configured: application {application}, addresses {string.Join(", ", addresses)}.");
        }

        HttpsUrl = addresses.Single(a => a.Scheme == Uri.UriSchemeHttps);

        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        foreach (var address in addresses.Where(a => a.Scheme == Uri.UriSchemeHttp))
        {
            using var response = await client.GetAsync(new Uri(address, "/alive"));
            if (response.StatusCode == HttpStatusCode.OK)
            {
                HttpUrl = address;
            }
            else
            {
                H2cUrl = address;
            }
        }

        if (HttpUrl is null || H2cUrl is null)
        {
            throw new InvalidOperationException($"Could not tell the edge's endpoints apart: {string.Join(", ", addresses)}");
        }
    }

    private sealed class Factory(IReadOnlyDictionary<string, string?> settings, string environment, Action<IServiceCollection>? configureServices)
        : WebApplicationFactory<Program>
    {
        public LogCapture Logs { get; } = new();

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            builder.UseEnvironment(environment);
            builder.WatchNoFiles();
            builder.ConfigureAppConfiguration((_, configuration) => configuration.AddInMemoryCollection(settings));
            builder.ConfigureLogging(logging => logging.AddProvider(Logs));
            if (configureServices is not null)
            {
                builder.ConfigureTestServices(configureServices);
            }
        }
    }
}
