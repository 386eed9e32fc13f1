using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Deploy.Tests;

/// <summary>Output of <c>bicep snapshot</c>: the resources a deployment would create, properties evaluated.</summary>
public sealed class DeploymentSnapshot
{
    public const string ContainerAppType = "Microsoft.App/containerApps";

    public DeploymentSnapshot(string name, BicepResult result, string text)
    {
        Name = name;
        Result = result;
        Text = text;
        Root = JsonNode.Parse(text)!.AsObject();
    }

    public string Name { get; }

    public BicepResult Result { get; }

    /// <summary>The snapshot file as written, for "never appears anywhere" checks.</summary>
    public string Text { get; }

    public JsonObject Root { get; }

    public IEnumerable<JsonObject> Resources => Root["predictedResources"]!.AsArray().Select(node => node!.AsObject());

    public JsonObject Outputs => Root["outputs"]!.AsObject();

    public JsonArray Diagnostics => Root["diagnostics"]!.AsArray();

    public IEnumerable<JsonObject> OfType(string type) =>
        Resources.Where(resource => (string?)resource["type"] == type);

    public JsonObject Resource(string type, string name) =>
        Assert.Single(OfType(type), resource => (string?)resource["name"] == name);

    /// <summary>Every container app: the services azd deploys and the backing ones (Redis).</summary>
    public IEnumerable<ContainerApp> AllContainerApps => OfType(ContainerAppType).Select(resource => new ContainerApp(resource));

    /// <summary>The container apps azd deploys a service of azure.yaml to (found by their azd-service-name tag).</summary>
    public IEnumerable<ContainerApp> ContainerApps => AllContainerApps.Where(app => app.Resource["tags"]?["azd-service-name"] is not null);

    public ContainerApp App(string name) => new(Resource(ContainerAppType, name));

    public override string ToString() => Name;
}

/// <summary>Convenience view of one predicted <c>Microsoft.App/containerApps</c> resource.</summary>
public sealed partial class ContainerApp(JsonObject resource)
{
    public JsonObject Resource { get; } = resource;

    public string Name => (string)Resource["name"]!;

    public JsonObject Configuration => Resource["properties"]!["configuration"]!.AsObject();

    public JsonObject Template => Resource["properties"]!["template"]!.AsObject();

    public JsonObject Ingress => Configuration["ingress"]!.AsObject();

    public JsonObject Container => Assert.Single(Template["containers"]!.AsArray())!.AsObject();

    public JsonObject Scale => Template["scale"]!.AsObject();

    public IReadOnlyList<JsonObject> Env => Container["env"]!.AsArray().Select(node => node!.AsObject()).ToArray();

    public IReadOnlyList<string> EnvNames => Env.Select(variable => (string)variable["name"]!).ToArray();

    public IReadOnlyList<JsonObject> Secrets =>
        Configuration["secrets"]!.AsArray().Select(node => node!.AsObject()).ToArray();

    public JsonObject Variable(string name) =>
        Assert.Single(Env, variable => (string?)variable["name"] == name);

    public string Value(string name) =>
        (string?)Variable(name)["value"] ?? throw new InvalidOperationException($"{Name}: {name} has no plain value.");

    public bool HasVariable(string name) => EnvNames.Contains(name);

    public JsonObject Probe(string type) =>
        Assert.Single(Container["probes"]!.AsArray().Select(node => node!.AsObject()),
            probe => (string?)probe["type"] == type);

    /// <summary>Port of a Kestrel endpoint set by Kestrel__Endpoints__{name}__Url (e.g. http://+:8081).</summary>
    public int KestrelPort(string endpointName) => PortOf(Value($"Kestrel__Endpoints__{endpointName}__Url"));

    public string KestrelProtocols(string endpointName) => Value($"Kestrel__Endpoints__{endpointName}__Protocols");

    public int TargetPort => (int)Ingress["targetPort"]!;

    public static int PortOf(string url)
    {
        var match = PortPattern().Match(url);
        Assert.True(match.Success, $"No port in '{url}'.");
        return int.Parse(match.Groups["port"].Value, CultureInfo.InvariantCulture);
    }

    public override string ToString() => Name;

    [GeneratedRegex(@":(?<port>\d+)/?$")]
    private static partial Regex PortPattern();
}
