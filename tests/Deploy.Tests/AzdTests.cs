using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Deploy.Tests;

/// <summary>azure.yaml, infra/main.parameters.json and the template agree with one another.</summary>
[Collection(DeploymentGroup.Name)]
public sealed partial class AzdTests(DeploymentFixture deployment)
{
    [Fact]
    public void AzureYamlDeclaresTheThreeServicesAsDotnetContainerApps()
    {
        var services = AzureYamlServices(deployment.RepoRoot);

        Assert.Equal(["dashboard-web", "edge-proxy", "metrics-api"], services.Keys.Order());
        foreach (var (name, settings) in services)
        {
            Assert.Equal("dotnet", settings["language"]);
            Assert.Equal("containerapp", settings["host"]);
            var projectDirectory = Path.GetFullPath(Path.Combine(deployment.RepoRoot, settings["project"]));
            Assert.True(Directory.EnumerateFiles(projectDirectory, "*.csproj").Any(), $"{name}: no project in {projectDirectory}");
            // No Dockerfile: azd then builds the image with `dotnet publish /t:PublishContainer`.
            Assert.False(File.Exists(Path.Combine(projectDirectory, "Dockerfile")), $"{name}: Dockerfile present");
        }
    }

    [Fact]
    public void AzdFindsEachServiceByItsTag()
    {
        var tagged = deployment.Deployed.ContainerApps
            .ToDictionary(app => (string)app.Resource["tags"]!["azd-service-name"]!, app => app.Name);

        Assert.Equal(AzureYamlServices(deployment.RepoRoot).Keys.Order(), tagged.Keys.Order());
        Assert.All(tagged, pair => Assert.Equal(pair.Key, pair.Value));
        Assert.All(deployment.Deployed.Resources.Where(r => r["tags"] is not null),
            resource => Assert.Equal("ci", (string?)resource["tags"]!["azd-env-name"]));
    }

    [Fact]
    public void ParametersFileWiresTheResourceExistsFlagOfEachService()
    {
        var parameters = ParametersFile();

        foreach (var service in AzureYamlServices(deployment.RepoRoot).Keys)
        {
            var bicepName = BicepName(service) + "Exists";
            var variable = $"SERVICE_{service.ToUpperInvariant().Replace('-', '_')}_RESOURCE_EXISTS";
            Assert.Equal($"${{{variable}=false}}", (string?)parameters[bicepName]?["value"]);
        }
    }

    [Fact]
    public void ParametersFileCoversEveryRequiredParameterWithoutLiteralSecrets()
    {
        var parameters = ParametersFile();
        var declared = deployment.ArmTemplate["parameters"]!.AsObject();

        foreach (var (name, declaration) in declared)
        {
            if (declaration!["defaultValue"] is null)
            {
                Assert.True(parameters.ContainsKey(name), $"required parameter {name} missing from main.parameters.json");
            }

            if ((string?)declaration["type"] == "securestring")
            {
                Assert.Matches(EnvironmentReference(), (string)parameters[name]!["value"]!);
            }
        }

        Assert.All(parameters, parameter => Assert.True(declared.ContainsKey(parameter.Key), $"unknown parameter {parameter.Key}"));
    }

    [Fact]
    public void UpProvisionsAgainAfterTheFirstDeploy()
    {
        // Provision -> deploy -> provision: the last step applies the full replica counts once
        // SERVICE_<NAME>_RESOURCE_EXISTS is true, keeping the image that deploy pushed.
        var steps = File.ReadAllLines(Path.Combine(deployment.RepoRoot, "azure.yaml"))
            .Select(line => line.Trim())
            .Where(line => line.StartsWith("- azd:", StringComparison.Ordinal))
            .Select(line => line["- azd:".Length..].Trim());

        Assert.Equal(["provision", "deploy --all", "provision"], steps);
    }

    [Fact]
    public void OutputsGiveAzdTheRegistryAndTheEdgeAddress()
    {
        var outputs = deployment.Deployed.Outputs;

        foreach (var name in new[]
                 {
                     "AZURE_CONTAINER_REGISTRY_ENDPOINT", "AZURE_RESOURCE_GROUP", "AZURE_CONTAINER_APPS_ENVIRONMENT_NAME",
                     "AZURE_CONTAINER_APPS_ENVIRONMENT_DEFAULT_DOMAIN", "SERVICE_EDGE_PROXY_ENDPOINT_URL", "ASPIRE_DASHBOARD_URL",
                 })
        {
            Assert.True(outputs.ContainsKey(name), $"output {name} missing");
        }

        Assert.Equal("rg-ci", (string?)outputs["AZURE_RESOURCE_GROUP"]);
        Assert.Contains("Microsoft.ContainerRegistry/registries", (string?)outputs["AZURE_CONTAINER_REGISTRY_ENDPOINT"], StringComparison.Ordinal);
        Assert.StartsWith("[format('https://{0}'", (string?)outputs["SERVICE_EDGE_PROXY_ENDPOINT_URL"], StringComparison.Ordinal);
    }

    private JsonObject ParametersFile() =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(deployment.InfraDirectory, "main.parameters.json")))!["parameters"]!.AsObject();

    /// <summary>
    /// The services block of azure.yaml. The file is ours and flat (two-space indents, scalar values),
    /// so a line reader is enough and keeps the test free of a YAML dependency.
    /// </summary>
    internal static Dictionary<string, Dictionary<string, string>> AzureYamlServices(string repoRoot)
    {
        var services = new Dictionary<string, Dictionary<string, string>>();
        Dictionary<string, string>? current = null;
        var inServices = false;
        foreach (var line in File.ReadAllLines(Path.Combine(repoRoot, "azure.yaml")))
        {
            if (line.Length == 0 || line.TrimStart().StartsWith('#'))
            {
                continue;
            }

            if (!line.StartsWith(' '))
            {
                inServices = line.TrimEnd() == "services:";
                continue;
            }

            var match = YamlEntry().Match(line);
            if (!inServices || !match.Success)
            {
                continue;
            }

            var key = match.Groups["key"].Value;
            var value = match.Groups["value"].Value.Trim();
            if (match.Groups["indent"].Length == 2)
            {
                current = services[key] = [];
            }
            else if (match.Groups["indent"].Length == 4 && current is not null && value.Length > 0)
            {
                current[key] = value;
            }
        }

        return services;
    }

    /// <summary>Bicep's name for an azd/Aspire name: metrics-api -> metricsApi.</summary>
    internal static string BicepName(string service)
    {
        var parts = service.Split('-');
        return parts[0] + string.Concat(parts[1..].Select(part => char.ToUpperInvariant(part[0]) + part[1..]));
    }

    [GeneratedRegex(@"^(?<indent> *)(?<key>[\w.-]+):(?<value>.*)$")]
    private static partial Regex YamlEntry();

    [GeneratedRegex(@"^\$\{[A-Z0-9_]+\}$")]
    private static partial Regex EnvironmentReference();
}
