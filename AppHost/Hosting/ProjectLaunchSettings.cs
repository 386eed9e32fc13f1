using System.Text.Json;
using Microsoft.Extensions.Configuration;

namespace AppHost.Hosting;

/// <summary>
/// What Aspire reads from a project before starting it: the launch profile (its environment
/// variables, applicationUrl) and, when present, Kestrel:Endpoints from appsettings, which then
/// define the endpoints instead of the profile's URLs.
/// </summary>
public sealed class ProjectLaunchSettings
{
    private ProjectLaunchSettings(string? profileName, IReadOnlyDictionary<string, string> environment, IReadOnlyList<EndpointAnnotation> endpoints)
    {
        ProfileName = profileName;
        Environment = environment;
        Endpoints = endpoints;
    }

    public string? ProfileName { get; }

    public IReadOnlyDictionary<string, string> Environment { get; }

    public IReadOnlyList<EndpointAnnotation> Endpoints { get; }

    public bool UsesKestrelEndpoints => Endpoints.Any(e => e.FromKestrelConfiguration);

    public static ProjectLaunchSettings Read(string projectPath, string? preferredProfile)
    {
        var projectDirectory = Path.GetDirectoryName(projectPath)!;
        var (profileName, environment, applicationUrls) = ReadLaunchProfile(projectDirectory, preferredProfile);

        var environmentName = environment.GetValueOrDefault("ASPNETCORE_ENVIRONMENT")
            ?? environment.GetValueOrDefault("DOTNET_ENVIRONMENT")
            ?? "Production";
        var endpoints = ReadKestrelEndpoints(projectDirectory, environmentName);
        if (endpoints.Count == 0)
        {
            endpoints = FromApplicationUrls(applicationUrls);
        }

        return new ProjectLaunchSettings(profileName, environment, endpoints);
    }

    private static (string? Name, Dictionary<string, string> Environment, string? ApplicationUrl) ReadLaunchProfile(
        string projectDirectory, string? preferredProfile)
    {
        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        var path = Path.Combine(projectDirectory, "Properties", "launchSettings.json");
        if (!File.Exists(path))
        {
            return (null, environment, null);
        }

        using var document = JsonDocument.Parse(File.ReadAllText(path), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        if (!document.RootElement.TryGetProperty("profiles", out var profiles))
        {
            return (null, environment, null);
        }

        // Aspire takes the requested profile, else the first one that runs the project.
        JsonProperty? chosen = null;
        foreach (var profile in profiles.EnumerateObject())
        {
            var isProject = profile.Value.TryGetProperty("commandName", out var command) && command.GetString() == "Project";
            if (preferredProfile is not null ? profile.Name == preferredProfile : isProject)
            {
                chosen = profile;
                break;
            }
        }

        if (chosen is not { } selected)
        {
            return (null, environment, null);
        }

        if (selected.Value.TryGetProperty("environmentVariables", out var variables))
        {
            foreach (var variable in variables.EnumerateObject())
            {
                environment[variable.Name] = variable.Value.GetString() ?? string.Empty;
            }
        }

        var applicationUrl = selected.Value.TryGetProperty("applicationUrl", out var url) ? url.GetString() : null;
        return (selected.Name, environment, applicationUrl);
    }

    private static List<EndpointAnnotation> ReadKestrelEndpoints(string projectDirectory, string environmentName)
    {
        var configuration = new ConfigurationBuilder()
            .SetBasePath(projectDirectory)
            .AddJsonFile("appsettings.json", optional: true)
            .AddJsonFile($"appsettings.{environmentName}.json", optional: true)
            .Build();

        var endpoints = new List<EndpointAnnotation>();
        var defaultProtocols = configuration["Kestrel:EndpointDefaults:Protocols"];
        foreach (var section in configuration.GetSection("Kestrel:Endpoints").GetChildren())
        {
            var url = section["Url"];
            if (string.IsNullOrEmpty(url))
            {
                continue;
            }

            var scheme = url.StartsWith("https:", StringComparison.OrdinalIgnoreCase) ? "https" : "http";
            var protocols = section["Protocols"] ?? defaultProtocols;
            var transport = string.Equals(protocols, "Http2", StringComparison.OrdinalIgnoreCase) ? "http2" : "http";
            endpoints.Add(new EndpointAnnotation(section.Key, scheme, transport, fromKestrelConfiguration: true));
        }

        return endpoints;
    }

    private static List<EndpointAnnotation> FromApplicationUrls(string? applicationUrls)
    {
        var endpoints = new List<EndpointAnnotation>();
        foreach (var url in (applicationUrls ?? string.Empty).Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var scheme = new Uri(url).Scheme;
            // As Aspire: the first URL of a scheme is named after it, the next ones scheme2, scheme3...
            var sameScheme = endpoints.Count(e => e.UriScheme == scheme);
            var name = sameScheme == 0 ? scheme : $"{scheme}{sameScheme + 1}";
            endpoints.Add(new EndpointAnnotation(name, scheme, "http", fromKestrelConfiguration: false));
        }

        return endpoints;
    }
}
