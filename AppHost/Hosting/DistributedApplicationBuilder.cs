using System.Diagnostics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AppHost.Hosting;

public sealed class DistributedApplicationBuilder : IDistributedApplicationBuilder
{
    /// <summary>
    /// The testing builder listens here to capture the AppHost's builder before it is built, as
    /// Aspire.Hosting.Testing does: tests then run the very graph that <c>dotnet run</c> runs.
    /// </summary>
    internal static readonly DiagnosticListener Diagnostics = new(DiagnosticNames.ListenerName);

    private readonly HostApplicationBuilder _hostBuilder;
    private bool _built;

    public DistributedApplicationBuilder(string[] args)
    {
        _hostBuilder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            Args = args,
            ApplicationName = System.Reflection.Assembly.GetEntryAssembly()?.GetName().Name,
            // The AppHost's own appsettings.json, wherever it is started from (dotnet run, tests).
            ContentRootPath = AppContext.BaseDirectory,
        });
        _hostBuilder.Logging.AddFilter("Microsoft.Extensions.Http.DefaultHttpClientFactory", LogLevel.Warning);
        if (Diagnostics.IsEnabled(DiagnosticNames.BuilderCreated))
        {
            Diagnostics.Write(DiagnosticNames.BuilderCreated, this);
        }
    }

    public ConfigurationManager Configuration => _hostBuilder.Configuration;

    public IHostEnvironment Environment => _hostBuilder.Environment;

    public IServiceCollection Services => _hostBuilder.Services;

    public IList<IResource> Resources { get; } = [];

    public IResourceBuilder<T> AddResource<T>(T resource) where T : IResource
    {
        if (!ResourceNames.IsValid(resource.Name))
        {
            throw new ArgumentException(
                $"'{resource.Name}' is not a valid resource name: start with a letter; letters, digits and single hyphens only; at most 64 characters.",
                nameof(resource));
        }

        if (Resources.Any(r => string.Equals(r.Name, resource.Name, StringComparison.OrdinalIgnoreCase)))
        {
            throw new DistributedApplicationException($"Cannot add resource '{resource.Name}': a resource with that name already exists.");
        }

        Resources.Add(resource);
        return CreateResourceBuilder(resource);
    }

    public IResourceBuilder<T> CreateResourceBuilder<T>(T resource) where T : IResource => new ResourceBuilder<T>(resource, this);

    public DistributedApplication Build()
    {
        if (Diagnostics.IsEnabled(DiagnosticNames.BuilderBuilding))
        {
            Diagnostics.Write(DiagnosticNames.BuilderBuilding, this);
        }

        if (_built)
        {
            throw new InvalidOperationException("The application has already been built.");
        }

        _built = true;
        var options = new OrchestratorOptions(
            RandomizePorts: Configuration.GetValue("AppHost:RandomizePorts", false),
            ShutdownTimeout: Configuration.GetValue("AppHost:ShutdownTimeout", TimeSpan.FromSeconds(10)));
        _hostBuilder.Services.AddSingleton(options);
        _hostBuilder.Services.AddSingleton(new DistributedApplicationModel([.. Resources]));
        _hostBuilder.Services.AddSingleton<ResourceNotificationService>();
        _hostBuilder.Services.AddSingleton<ResourceLoggerService>();
        _hostBuilder.Services.AddSingleton<ConsoleOutput>();
        _hostBuilder.Services.AddSingleton<Orchestrator>();
        _hostBuilder.Services.AddHostedService(sp => sp.GetRequiredService<Orchestrator>());
        _hostBuilder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = options.ShutdownTimeout + TimeSpan.FromSeconds(5));
        _hostBuilder.Services.AddHttpClient(Orchestrator.HealthClientName)
            .ConfigurePrimaryHttpMessageHandler(() => LoopbackHttp.CreateHandler());

        return new DistributedApplication(_hostBuilder.Build());
    }
}

public sealed record DistributedApplicationModel(IReadOnlyList<IResource> Resources);

internal sealed record OrchestratorOptions(bool RandomizePorts, TimeSpan ShutdownTimeout);

public static class DiagnosticNames
{
    public const string ListenerName = "AppHost.Hosting";
    public const string BuilderCreated = "BuilderCreated";
    public const string BuilderBuilding = "BuilderBuilding";
}

public sealed class DistributedApplicationException(string message, Exception? inner = null) : Exception(message, inner);

internal static class ResourceNames
{
    // Aspire's rule (src/Shared/ModelName.cs).
    public static bool IsValid(string name) =>
        name.Length is > 0 and <= 64
        && char.IsAsciiLetter(name[0])
        && name[^1] != '-'
        && !name.Contains("--", StringComparison.Ordinal)
        && name.All(c => char.IsAsciiLetterOrDigit(c) || c == '-');
}
