using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Tests.Shared;

/// <summary>
/// Test hosts watch no files. By default a host reloads appsettings*.json and user secrets on change through a
/// FileSystemWatcher over its whole content root: on Linux one inotify instance per host (128 per user by default,
/// shared with an AppHost running on the same machine), held until the watcher is disposed or collected. Tests
/// never edit those files, so the setting below (read before the app's configuration files are added) turns it off.
/// </summary>
internal static class FileWatching
{
    public const string ReloadConfigOnChange = "hostBuilder:reloadConfigOnChange";

    /// <summary>The setting as an environment variable, for a service started as a child process.</summary>
    public const string ReloadConfigOnChangeVariable = "DOTNET_hostBuilder__reloadConfigOnChange";

    /// <summary>The setting as command-line arguments, for <c>WebApplication.Create*Builder</c>.</summary>
    public static string[] OffArgs => [$"--{ReloadConfigOnChange}=false"];

    /// <summary>
    /// For a WebApplicationFactory: its host settings reach the app's <c>CreateBuilder(args)</c> as command-line
    /// arguments, so they apply before appsettings.json is added.
    /// </summary>
    public static IWebHostBuilder WatchNoFiles(this IWebHostBuilder builder) => builder.UseSetting(ReloadConfigOnChange, "false");

    /// <summary>Throws if a started host still reloads a configuration file on change (the setting did not reach it).</summary>
    public static void EnsureOff(IServiceProvider services)
    {
        var watched = ((IConfigurationRoot)services.GetRequiredService<IConfiguration>()).Providers
            .OfType<FileConfigurationProvider>()
            .Where(p => p.Source.ReloadOnChange)
            .Select(p => p.Source.Path)
            .ToList();
        if (watched.Count > 0)
        {
            throw new InvalidOperationException($"A test host watches configuration files: {string.Join(", ", watched)}.");
        }
    }
}
