using System.Text.Json.Nodes;

namespace Deploy.Tests;

/// <summary>The compiled ARM template and the compiler/linter verdict on it.</summary>
[Collection(DeploymentGroup.Name)]
public sealed class TemplateTests(DeploymentFixture deployment)
{
    private static readonly string[] SecureParameters = ["dashboardClientSecret", "streamTicketSigningKey"];

    [Fact]
    public void BicepBuildReportsNoWarningsOrErrors()
    {
        // bicep build runs the linter too, with the levels in infra/bicepconfig.json.
        Assert.Equal(0, deployment.Build.ExitCode);
        Assert.True(deployment.Build.Diagnostics.Count == 0, deployment.Build.ToString());
    }

    [Fact]
    public void SnapshotsEvaluateWithoutDiagnostics()
    {
        foreach (var snapshot in deployment.AllSnapshots)
        {
            Assert.True(snapshot.Result.Diagnostics.Count == 0, snapshot.Result.ToString());
            Assert.Empty(snapshot.Diagnostics);
        }
    }

    [Fact]
    public void ContainerAppsResourcesUseTheGaApiVersionThatKnowsDotNetComponents()
    {
        var appResources = deployment.Deployed.Resources
            .Where(resource => ((string)resource["type"]!).StartsWith("Microsoft.App/", StringComparison.Ordinal))
            .ToArray();

        Assert.Equal(6, appResources.Length); // environment, dashboard component, three apps, Redis
        Assert.All(appResources, resource => Assert.Equal("2026-07-01", (string?)resource["apiVersion"]));
    }

    [Fact]
    public void NoResourceUsesAPreviewApiVersion()
    {
        var versions = Descendants(deployment.ArmTemplate)
            .OfType<JsonObject>()
            .Where(node => node["type"] is JsonValue && node["apiVersion"] is JsonValue)
            .Select(node => $"{node["type"]}@{node["apiVersion"]}")
            .ToArray();

        Assert.NotEmpty(versions);
        Assert.DoesNotContain(versions, version => version.Contains("-preview", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public void SecretParametersAreSecureStringsAtEveryLevel()
    {
        var declarations = Descendants(deployment.ArmTemplate)
            .OfType<JsonObject>()
            .Select(node => node["parameters"])
            .OfType<JsonObject>()
            .SelectMany(parameters => parameters)
            .Where(parameter => SecureParameters.Contains(parameter.Key) && parameter.Value is JsonObject { } declaration
                && declaration["type"] is not null)
            .ToArray();

        // Declared in main.bicep and again in resources.bicep.
        Assert.Equal(4, declarations.Length);
        Assert.All(declarations, parameter => Assert.Equal("securestring", (string?)parameter.Value!["type"]));

        var secretEntry = Descendants(deployment.ArmTemplate)
            .OfType<JsonObject>()
            .Select(node => node["definitions"]?["secretEntry"])
            .OfType<JsonObject>()
            .ToArray();
        Assert.NotEmpty(secretEntry);
        Assert.All(secretEntry, definition =>
            Assert.Equal("securestring", (string?)definition["properties"]!["value"]!["type"]));
    }

    [Fact]
    public void NoOutputExposesASecret()
    {
        foreach (var template in Descendants(deployment.ArmTemplate).OfType<JsonObject>()
                     .Where(node => node["outputs"] is JsonObject && node["resources"] is not null))
        {
            var secureNames = (template["parameters"] as JsonObject ?? new JsonObject())
                .Where(parameter => parameter.Value is JsonObject declaration
                    && (string?)declaration["type"] is "securestring" or "secureObject")
                .Select(parameter => parameter.Key)
                .ToArray();

            foreach (var output in template["outputs"]!.AsObject())
            {
                var type = (string?)output.Value!["type"];
                Assert.False(type is "securestring" or "secureObject", $"output {output.Key} is {type}");
                var value = output.Value!["value"]?.ToJsonString() ?? "";
                Assert.All(secureNames, name =>
                    Assert.DoesNotContain($"parameters('{name}')", value, StringComparison.Ordinal));
            }
        }

        Assert.All(deployment.AllSnapshots, snapshot =>
        {
            var outputs = snapshot.Outputs.ToJsonString();
            Assert.DoesNotContain(DeploymentFixture.StreamTicketKeySentinel, outputs, StringComparison.Ordinal);
            Assert.DoesNotContain(DeploymentFixture.OidcClientSecretSentinel, outputs, StringComparison.Ordinal);
            Assert.DoesNotContain(DeploymentFixture.RedisPasswordSentinel, outputs, StringComparison.Ordinal);
        });
    }

    [Fact]
    public void SecretValuesNeverAppearInClearInTheEvaluatedDeployment()
    {
        Assert.All(deployment.AllSnapshots, snapshot =>
        {
            Assert.DoesNotContain(DeploymentFixture.StreamTicketKeySentinel, snapshot.Text, StringComparison.Ordinal);
            Assert.DoesNotContain(DeploymentFixture.OidcClientSecretSentinel, snapshot.Text, StringComparison.Ordinal);
            Assert.DoesNotContain(DeploymentFixture.RedisPasswordSentinel, snapshot.Text, StringComparison.Ordinal);
        });
    }

    internal static IEnumerable<JsonNode> Descendants(JsonNode? node)
    {
        if (node is null)
        {
            yield break;
        }

        yield return node;
        var children = node switch
        {
            JsonObject obj => obj.Select(property => property.Value),
            JsonArray array => array.AsEnumerable(),
            _ => [],
        };
        foreach (var child in children)
        {
            foreach (var descendant in Descendants(child))
            {
                yield return descendant;
            }
        }
    }
}
