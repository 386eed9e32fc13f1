namespace Deploy.Tests;

/// <summary>Replica counts, the scale signal for long-lived streams, shutdown time and revisions.</summary>
[Collection(DeploymentGroup.Name)]
public sealed class ScaleAndLifecycleTests(DeploymentFixture deployment)
{
    /// <summary>
    /// .NET's default HostOptions.ShutdownTimeout. Metrics.Api ends its streams within a few seconds of
    /// SIGTERM, but whatever the app does, the host gives up after this; the platform must wait longer,
    /// or SIGKILL cuts streams that were about to end cleanly (the platform default is also 30 s).
    /// </summary>
    private const int HostShutdownTimeoutSeconds = 30;

    [Theory]
    [InlineData("edge-proxy")]
    [InlineData("metrics-api")]
    [InlineData("dashboard-web")]
    public void GracePeriodOutlastsTheStreamDrainAndTheHostShutdownTimeout(string appName)
    {
        var grace = (int)deployment.Deployed.App(appName).Template["terminationGracePeriodSeconds"]!;

        Assert.True(grace > HostShutdownTimeoutSeconds, $"{appName}: terminationGracePeriodSeconds = {grace}");
    }

    [Theory]
    [InlineData("edge-proxy")]
    [InlineData("metrics-api")]
    public void StreamingAppsScaleOnConcurrentRequests(string appName)
    {
        // Each open SSE stream is one concurrent request for its whole life: the signal that tracks load.
        var scale = deployment.Deployed.App(appName).Scale;

        Assert.True((int)scale["minReplicas"]! >= 1, "a replica must stay up to hold streams");
        Assert.True((int)scale["maxReplicas"]! > (int)scale["minReplicas"]!);
        var rule = Assert.Single(scale["rules"]!.AsArray())!;
        var concurrentRequests = (string?)rule["http"]?["metadata"]?["concurrentRequests"];
        Assert.True(int.TryParse(concurrentRequests, System.Globalization.CultureInfo.InvariantCulture, out var perReplica) && perReplica > 0,
            $"{appName}: http rule concurrentRequests = {concurrentRequests}");
    }

    [Fact]
    public void EdgeTakesMoreStreamsPerReplicaThanMetricsApi()
    {
        static int PerReplica(ContainerApp app) => int.Parse(
            (string)app.Scale["rules"]![0]!["http"]!["metadata"]!["concurrentRequests"]!,
            System.Globalization.CultureInfo.InvariantCulture);

        Assert.True(PerReplica(deployment.Deployed.App("edge-proxy")) >= PerReplica(deployment.Deployed.App("metrics-api")));
    }

    [Fact]
    public void FirstProvisionRunsNoReplicaOfThePlaceholderImage()
    {
        // The placeholder listens on neither of our ports; with no replica it cannot fail a probe.
        Assert.All(deployment.FirstProvision.ContainerApps, app =>
        {
            Assert.Equal("mcr.microsoft.com/azuredocs/containerapps-helloworld:latest", (string?)app.Container["image"]);
            Assert.Equal(0, (int)app.Scale["minReplicas"]!);
        });
    }

    [Fact]
    public void ReprovisioningKeepsTheImageAzdDeployed()
    {
        Assert.All(deployment.Deployed.ContainerApps, app =>
        {
            var image = (string)app.Container["image"]!;
            Assert.Contains($"Microsoft.App/containerApps/{app.Name}'", image, StringComparison.Ordinal);
            Assert.Contains(".template.containers", image, StringComparison.Ordinal);
            Assert.True((int)app.Scale["minReplicas"]! >= 1);
        });
    }

    [Fact]
    public void EachAppRunsOneActiveRevision()
    {
        Assert.All(deployment.Deployed.AllContainerApps, app =>
            Assert.Equal("Single", (string?)app.Configuration["activeRevisionsMode"]));
    }
}
