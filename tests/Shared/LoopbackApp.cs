using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Tests.Shared;

/// <summary>
/// The small HTTP servers tests stand up in place of a real dependency (an OIDC provider, an OTLP receiver, an
/// upstream API): a slim host on 127.0.0.1 with a port the OS picks, no logging, and configuration from code alone —
/// a test's output folder holds the service's appsettings.json (with its Kestrel endpoints), and the environment may
/// hold anything. It watches no files (see tests/Shared/FileWatching.cs; this file is also compiled on its own).
/// </summary>
internal static class LoopbackApp
{
    public static WebApplicationBuilder CreateBuilder()
    {
        // Read before the builder adds appsettings.json, which would otherwise start a file watcher (an inotify
        // instance) before the sources are cleared.
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = ["--hostBuilder:reloadConfigOnChange=false"] });
        builder.Configuration.Sources.Clear();
        builder.WebHost.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        return builder;
    }

    /// <summary>Starts the app; if that fails, disposes it, so nothing it opened outlives the failed start.</summary>
    public static async Task StartAsync(WebApplication app)
    {
        try
        {
            await app.StartAsync();
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
    }

    /// <summary>The address a started app listens on.</summary>
    public static Uri Address(WebApplication app) =>
        new(app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single());
}
