namespace Deploy.Tests;

/// <summary>The shared platform: environment, Aspire dashboard, logs, registry and the pull identity.</summary>
[Collection(DeploymentGroup.Name)]
public sealed class PlatformTests(DeploymentFixture deployment)
{
    private const string AcrPullRoleId = "7f951dda-4ed3-4680-a7ca-43fe172d538d";

    [Fact]
    public void EnvironmentHasTheAspireDashboardComponent()
    {
        var environment = Assert.Single(deployment.Deployed.OfType("Microsoft.App/managedEnvironments"));
        var component = Assert.Single(deployment.Deployed.OfType("Microsoft.App/managedEnvironments/dotNetComponents"));

        Assert.Equal($"{environment["name"]}/aspire-dashboard", (string?)component["name"]);
        Assert.Equal("AspireDashboard", (string?)component["properties"]!["componentType"]);
    }

    [Fact]
    public void EnvironmentSendsLogsToLogAnalytics()
    {
        var environment = Assert.Single(deployment.Deployed.OfType("Microsoft.App/managedEnvironments"));
        var workspace = Assert.Single(deployment.Deployed.OfType("Microsoft.OperationalInsights/workspaces"));
        var logs = environment["properties"]!["appLogsConfiguration"]!;

        Assert.Equal("log-analytics", (string?)logs["destination"]);
        Assert.Contains((string)workspace["id"]!, (string?)logs["logAnalyticsConfiguration"]!["customerId"], StringComparison.Ordinal);
    }

    [Fact]
    public void AllAppsRunInTheEnvironmentOnTheConsumptionProfile()
    {
        var environment = Assert.Single(deployment.Deployed.OfType("Microsoft.App/managedEnvironments"));
        var profile = Assert.Single(environment["properties"]!["workloadProfiles"]!.AsArray())!;
        Assert.Equal("Consumption", (string?)profile["workloadProfileType"]);

        Assert.Equal(3, deployment.Deployed.ContainerApps.Count());
        Assert.All(deployment.Deployed.AllContainerApps, app =>
        {
            Assert.Equal((string?)environment["id"], (string?)app.Resource["properties"]!["environmentId"]);
            Assert.Equal((string?)profile["name"], (string?)app.Resource["properties"]!["workloadProfileName"]);
        });
    }

    [Fact]
    public void RegistryHasNoAdminUserAndTheAppIdentityMayPull()
    {
        var registry = Assert.Single(deployment.Deployed.OfType("Microsoft.ContainerRegistry/registries"));
        var identity = Assert.Single(deployment.Deployed.OfType("Microsoft.ManagedIdentity/userAssignedIdentities"));
        var pull = Assert.Single(deployment.Deployed.OfType("Microsoft.Authorization/roleAssignments"),
            assignment => ((string)assignment["properties"]!["roleDefinitionId"]!).EndsWith(AcrPullRoleId, StringComparison.Ordinal));

        Assert.False((bool)registry["properties"]!["adminUserEnabled"]!);
        Assert.StartsWith((string)registry["id"]! + "/", (string)pull["id"]!, StringComparison.Ordinal);
        Assert.Contains((string)identity["id"]!, (string)pull["properties"]!["principalId"]!, StringComparison.Ordinal);
        Assert.Equal("ServicePrincipal", (string?)pull["properties"]!["principalType"]);
    }

    [Fact]
    public void AppsPullWithTheUserAssignedIdentity()
    {
        var identity = Assert.Single(deployment.Deployed.OfType("Microsoft.ManagedIdentity/userAssignedIdentities"));
        var identityId = (string)identity["id"]!;

        Assert.All(deployment.Deployed.ContainerApps, app =>
        {
            Assert.Equal("UserAssigned", (string?)app.Resource["identity"]!["type"]);
            Assert.True(app.Resource["identity"]!["userAssignedIdentities"]!.AsObject().ContainsKey(identityId));
            var registry = Assert.Single(app.Configuration["registries"]!.AsArray())!;
            Assert.Equal(identityId, (string?)registry["identity"]);
            Assert.Null(registry["passwordSecretRef"]);
        });
    }
}
