using System.Text.Json.Nodes;

namespace Deploy.Tests;

/// <summary>
/// The Aspire manifest the AppHost writes with <c>--publisher manifest</c>: its project resources (bindings and
/// environment) and parameters, i.e. what the AppHost says a deployment consists of.
/// </summary>
public sealed class AspireManifest
{
    private static readonly TimeSpan PublishTimeout = TimeSpan.FromMinutes(2);

    private AspireManifest(string path, JsonObject root)
    {
        Path = path;
        Root = root;
        var resources = root["resources"]!.AsObject();
        ResourceTypes = resources.ToDictionary(pair => pair.Key, pair => (string)pair.Value!["type"]!);
        Projects = resources
            .Where(pair => ResourceTypes[pair.Key].StartsWith("project.", StringComparison.Ordinal))
            .ToDictionary(pair => pair.Key, pair => ManifestProject.Parse(pair.Key, pair.Value!.AsObject(), path));
        Containers = resources
            .Where(pair => ResourceTypes[pair.Key] == "container.v0")
            .ToDictionary(pair => pair.Key, pair => ManifestContainer.Parse(pair.Key, pair.Value!.AsObject()));
        Values = resources
            .Where(pair => ResourceTypes[pair.Key] == "value.v0")
            .ToDictionary(pair => pair.Key, pair => (string?)pair.Value!["connectionString"] ?? (string?)pair.Value["value"] ?? "");
        Parameters = resources
            .Where(pair => ResourceTypes[pair.Key] == "parameter.v0")
            .ToDictionary(pair => pair.Key, pair => new ManifestParameter(
                pair.Key, (bool?)pair.Value!["inputs"]?["value"]?["secret"] ?? false));
    }

    public string Path { get; }

    public JsonObject Root { get; }

    public IReadOnlyDictionary<string, string> ResourceTypes { get; }

    public IReadOnlyDictionary<string, ManifestProject> Projects { get; }

    public IReadOnlyDictionary<string, ManifestParameter> Parameters { get; }

    /// <summary>Container resources (e.g. AddRedis): each is a container app of its own in the deployment.</summary>
    public IReadOnlyDictionary<string, ManifestContainer> Containers { get; }

    /// <summary><c>value.v0</c> resources: constants inlined where referenced (e.g. Redis's ",ssl=true" when TLS is on).</summary>
    public IReadOnlyDictionary<string, string> Values { get; }

    /// <summary>
    /// Runs the built AppHost (<c>dotnet AppHost.dll --publisher manifest</c>) from its project folder. It gets a
    /// throwaway HOME: the AppHost reads user secrets there, and the manifest must depend on the repository alone, not
    /// on the developer's profile.
    /// </summary>
    public static async Task<AspireManifest> PublishAsync(string appHostPath, string appHostProjectDirectory, string workDirectory)
    {
        var home = Directory.CreateDirectory(System.IO.Path.Combine(workDirectory, "apphost-home")).FullName;
        var manifestPath = System.IO.Path.Combine(workDirectory, "aspire-manifest.json");
        var (exitCode, output) = await ChildProcess.RunAsync(
            DotnetHost(),
            [appHostPath, "--publisher", "manifest", "--output-path", manifestPath],
            appHostProjectDirectory,
            PublishTimeout,
            new Dictionary<string, string> { ["HOME"] = home, ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1", ["DOTNET_NOLOGO"] = "1" });
        Assert.True(exitCode == 0 && File.Exists(manifestPath),
            $"dotnet {appHostPath} --publisher manifest failed (exit {exitCode}):{Environment.NewLine}{output}");

        return new AspireManifest(manifestPath, JsonNode.Parse(await File.ReadAllTextAsync(manifestPath))!.AsObject());
    }

    /// <summary>The muxer running this test (the SDK sets DOTNET_HOST_PATH for its child processes).</summary>
    private static string DotnetHost()
    {
        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host)
        {
            return host;
        }

        return Environment.ProcessPath is { } current
            && System.IO.Path.GetFileNameWithoutExtension(current) == "dotnet" ? current : "dotnet";
    }
}

/// <summary>One project resource of the manifest.</summary>
public sealed record ManifestProject(
    string Name,
    string ProjectPath,
    IReadOnlyDictionary<string, string> Env,
    IReadOnlyDictionary<string, ManifestBinding> Bindings)
{
    public static ManifestProject Parse(string name, JsonObject resource, string manifestPath)
    {
        // "path" is relative to the manifest file.
        var projectPath = System.IO.Path.GetFullPath(
            System.IO.Path.Combine(System.IO.Path.GetDirectoryName(manifestPath)!, (string)resource["path"]!));
        var env = (resource["env"]?.AsObject() ?? [])
            .ToDictionary(pair => pair.Key, pair => (string)pair.Value!);
        var bindings = (resource["bindings"]?.AsObject() ?? [])
            .ToDictionary(pair => pair.Key, pair => new ManifestBinding(
                pair.Key,
                (string)pair.Value!["scheme"]!,
                (string?)pair.Value["transport"] ?? "http",
                (bool?)pair.Value["external"] ?? false,
                (int?)pair.Value["targetPort"]));
        return new ManifestProject(name, projectPath, env, bindings);
    }
}

/// <summary>One container resource of the manifest.</summary>
public sealed record ManifestContainer(
    string Name,
    string Image,
    string? Entrypoint,
    IReadOnlyList<string> Args,
    IReadOnlyDictionary<string, string> Env,
    IReadOnlyDictionary<string, ManifestBinding> Bindings,
    string? ConnectionString)
{
    public static ManifestContainer Parse(string name, JsonObject resource) => new(
        name,
        (string)resource["image"]!,
        (string?)resource["entrypoint"],
        (resource["args"]?.AsArray() ?? []).Select(arg => (string)arg!).ToArray(),
        (resource["env"]?.AsObject() ?? []).ToDictionary(pair => pair.Key, pair => (string)pair.Value!),
        (resource["bindings"]?.AsObject() ?? []).ToDictionary(pair => pair.Key, pair => new ManifestBinding(
            pair.Key,
            (string)pair.Value!["scheme"]!,
            (string?)pair.Value["transport"] ?? "http",
            (bool?)pair.Value["external"] ?? false,
            (int?)pair.Value["targetPort"])),
        (string?)resource["connectionString"]);
}

/// <summary>An endpoint of a project: <c>bindings.&lt;name&gt;</c> in the manifest.</summary>
public sealed record ManifestBinding(string Name, string Scheme, string Transport, bool External, int? TargetPort)
{
    public override string ToString() =>
        $"{Scheme}/{Transport}{(External ? ", external" : "")}{(TargetPort is { } port ? $", targetPort {port}" : "")}";
}

/// <summary>A <c>parameter.v0</c> resource (AddParameter in the AppHost).</summary>
public sealed record ManifestParameter(string Name, bool Secret);
