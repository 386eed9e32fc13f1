namespace Deploy.Tests;

/// <summary>
/// Who can reach what, and over which protocol. The edge takes HTTP/2 from the platform proxy as h2c on
/// its HTTP/2-only Kestrel endpoint; metrics-api does the same internally; dashboard-web is HTTP/1.1.
/// </summary>
[Collection(DeploymentGroup.Name)]
public sealed class IngressTests(DeploymentFixture deployment)
{
    [Fact]
    public void EdgeIsExternalAndTakesH2cOnItsHttp2OnlyEndpoint()
    {
        var edge = deployment.Deployed.App("edge-proxy");

        Assert.True((bool)edge.Ingress["external"]!);
        Assert.Equal("http2", (string?)edge.Ingress["transport"]);
        Assert.Equal(edge.KestrelPort("h2c"), edge.TargetPort);
        Assert.Equal("Http2", edge.KestrelProtocols("h2c"));
    }

    [Fact]
    public void EdgeRedirectsPlainHttpToHttps()
    {
        var edge = deployment.Deployed.App("edge-proxy");

        Assert.False((bool)edge.Ingress["allowInsecure"]!);
    }

    [Fact]
    public void MetricsApiIsInternalAndTakesH2cOnItsHttp2OnlyEndpoint()
    {
        var api = deployment.Deployed.App("metrics-api");

        Assert.False((bool)api.Ingress["external"]!);
        Assert.Equal("http2", (string?)api.Ingress["transport"]);
        Assert.Equal(api.KestrelPort("h2c"), api.TargetPort);
        Assert.Equal("Http2", api.KestrelProtocols("h2c"));
    }

    [Fact]
    public void MetricsApiExposesItsHttp1EndpointAsAnInternalExtraPort()
    {
        var api = deployment.Deployed.App("metrics-api");

        var mapping = Assert.Single(api.Ingress["additionalPortMappings"]!.AsArray())!;
        Assert.False((bool)mapping["external"]!);
        Assert.Equal(api.KestrelPort("http"), (int)mapping["targetPort"]!);
        Assert.Equal(api.KestrelPort("http"), (int)mapping["exposedPort"]!);
        Assert.Equal("Http1", api.KestrelProtocols("http"));
    }

    [Fact]
    public void DashboardWebIsInternalHttp1OnItsOnlyPort()
    {
        var dashboard = deployment.Deployed.App("dashboard-web");

        Assert.False((bool)dashboard.Ingress["external"]!);
        Assert.Equal("http", (string?)dashboard.Ingress["transport"]);
        Assert.Equal(int.Parse(dashboard.Value("ASPNETCORE_HTTP_PORTS"), System.Globalization.CultureInfo.InvariantCulture),
            dashboard.TargetPort);
    }

    [Theory]
    [InlineData("metrics-api")]
    [InlineData("dashboard-web")]
    public void InternalAppsAcceptPlainHttpFromInsideTheEnvironment(string appName)
    {
        // Without it the platform answers http:// with a redirect to https, which an h2c client
        // (YARP with RequestVersionExact) cannot follow.
        Assert.True((bool)deployment.Deployed.App(appName).Ingress["allowInsecure"]!);
    }

    [Fact]
    public void OnlyTheEdgeIsReachableFromOutside()
    {
        var external = deployment.Deployed.AllContainerApps
            .Where(app => (bool)app.Ingress["external"]!
                || (app.Ingress["additionalPortMappings"]?.AsArray() ?? []).Any(mapping => (bool)mapping!["external"]!))
            .Select(app => app.Name);

        Assert.Equal(["edge-proxy"], external);
    }
}
