using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Logging;
using Tests.Shared;

namespace Dashboard.Web.Tests.Infrastructure;

/// <summary>
/// The real Dashboard.Web (its Program.cs, middleware and wwwroot) in this process on a real Kestrel
/// socket at 127.0.0.1 with an OS-chosen port. Settings go in as host settings, as the AppHost's
/// environment variables would.
/// </summary>
public sealed class DashboardApp : IAsyncDisposable
{
    private readonly Factory _factory;

    private DashboardApp(Factory factory, Uri address)
    {
        _factory = factory;
        Address = address;
    }

    public Uri Address { get; }

    public IServiceProvider Services => _factory.Services;

    public FakeLogCollector Logs => _factory.Services.GetFakeLogCollector();

    /// <param name="environment">Development unless a test says otherwise.</param>
    /// <param name="settings">Configuration as key/value (e.g. DevelopmentIssuer:SigningKey).</param>
    public static DashboardApp Start(string environment = "Development", IEnumerable<KeyValuePair<string, string?>>? settings = null)
    {
        var settingsList = settings?.ToList() ?? [];
        for (var attempt = 1; ; attempt++)
        {
            var factory = new Factory(environment, settingsList);
            try
            {
                factory.UseKestrel();
                HostStartGate.Start(factory.StartServer);
                FileWatching.EnsureOff(factory.Services);
                var address = factory.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses
                    .Select(a => new Uri(a))
                    .Single();
                return new DashboardApp(factory, address);
            }
            catch (ObjectDisposedException) when (attempt < 5)
            {
                // WebApplicationFactory race (as in Metrics.Api.Tests' TestApp): when the app fails to start, its host can
                // be disposed before the factory reads the outcome, hiding the real start-up exception. Start again to get it.
                factory.Dispose();
            }
            catch
            {
                factory.Dispose();
                throw;
            }
        }
    }

    /// <summary>A browser-like client that arrives through the edge (X-Forwarded-Proto: https).</summary>
    public BrowserClient CreateBrowser(bool throughEdge = true) => new(Address, throughEdge);

    public async ValueTask DisposeAsync() => await _factory.DisposeAsync();

    private sealed class Factory(string environment, List<KeyValuePair<string, string?>> settings) : WebApplicationFactory<Program>
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            builder.UseEnvironment(environment);
            builder.WatchNoFiles();
            builder.UseUrls("http://127.0.0.1:0");
            // No OTLP exporter and no launch profile in tests; the rest is the app as it runs.
            builder.UseSetting("OTEL_EXPORTER_OTLP_ENDPOINT", "");
            foreach (var (key, value) in settings)
            {
                builder.UseSetting(key, value);
            }

            builder.ConfigureLogging(logging => logging.AddFakeLogging());
        }
    }
}
