using System.Text.Json.Nodes;

namespace Deploy.Tests;

/// <summary>
/// Configuration reaches the apps through environment variables with the same names as under the
/// AppHost (Aspire conventions), so the services run unchanged locally and on Azure Container Apps.
/// </summary>
[Collection(DeploymentGroup.Name)]
public sealed class EnvironmentVariableTests(DeploymentFixture deployment)
{
    private const string DomainSuffix = ".internal." + ArmExpression.DefaultDomain;

    [Fact]
    public void EdgeGetsTheServiceDiscoveryVariablesOfBothBackends()
    {
        var edge = deployment.Deployed.App("edge-proxy");

        Assert.Equal("http://metrics-api" + DomainSuffix, ArmExpression.Resolve(edge.Value("services__metrics-api__h2c__0")));
        Assert.Equal("http://metrics-api:8080", ArmExpression.Resolve(edge.Value("services__metrics-api__http__0")));
        Assert.Equal("http://dashboard-web" + DomainSuffix, ArmExpression.Resolve(edge.Value("services__dashboard-web__http__0")));
    }

    [Fact]
    public void EdgeGetsTheAspire13StyleDuplicatesWithTheSameValues()
    {
        var edge = deployment.Deployed.App("edge-proxy");

        Assert.Equal(edge.Value("services__metrics-api__h2c__0"), edge.Value("METRICS_API_H2C"));
        Assert.Equal(edge.Value("services__metrics-api__http__0"), edge.Value("METRICS_API_HTTP"));
        Assert.Equal(edge.Value("services__dashboard-web__http__0"), edge.Value("DASHBOARD_WEB_HTTP"));
    }

    [Fact]
    public void DiscoveredH2cAddressIsTheMetricsApiIngressWhichSpeaksH2c()
    {
        // http://<app>.internal.<domain> is the app's ingress (port 80 on the platform proxy), which
        // forwards to targetPort with the app's transport.
        var edge = deployment.Deployed.App("edge-proxy");
        var api = deployment.Deployed.App("metrics-api");

        var address = new Uri(ArmExpression.Resolve(edge.Value("services__metrics-api__h2c__0")).Replace(ArmExpression.DefaultDomain, "env.example", StringComparison.Ordinal));
        Assert.Equal("http", address.Scheme);
        Assert.Equal(80, address.Port);
        Assert.StartsWith(api.Name + ".internal.", address.Host, StringComparison.Ordinal);
        Assert.Equal("http2", (string?)api.Ingress["transport"]);
        Assert.Equal(api.KestrelPort("h2c"), api.TargetPort);
    }

    [Fact]
    public void DiscoveredHttpAddressIsTheMetricsApiExtraPort()
    {
        var edge = deployment.Deployed.App("edge-proxy");
        var api = deployment.Deployed.App("metrics-api");

        var address = new Uri(edge.Value("services__metrics-api__http__0"));
        Assert.Equal(api.Name, address.Host);
        Assert.Contains(api.Ingress["additionalPortMappings"]!.AsArray(),
            mapping => (int)mapping!["exposedPort"]! == address.Port && (int)mapping["targetPort"]! == api.KestrelPort("http"));
    }

    [Fact]
    public void DiscoveredDashboardAddressIsItsHttp1Ingress()
    {
        var dashboard = deployment.Deployed.App("dashboard-web");

        Assert.Equal("http", (string?)dashboard.Ingress["transport"]);
        Assert.Equal(
            $"http://{dashboard.Name}{DomainSuffix}",
            ArmExpression.Resolve(deployment.Deployed.App("edge-proxy").Value("services__dashboard-web__http__0")));
    }

    [Theory]
    [InlineData("edge-proxy")]
    [InlineData("metrics-api")]
    public void KestrelEndpointsListenOnFixedPortsWithPinnedProtocols(string appName)
    {
        var app = deployment.Deployed.App(appName);

        Assert.Equal("http://+:8080", app.Value("Kestrel__Endpoints__http__Url"));
        Assert.Equal("Http1", app.KestrelProtocols("http"));
        Assert.Equal("http://+:8081", app.Value("Kestrel__Endpoints__h2c__Url"));
        Assert.Equal("Http2", app.KestrelProtocols("h2c"));
    }

    [Theory]
    [InlineData("Edge.Proxy")]
    [InlineData("Metrics.Api")]
    public void AppsettingsDeclareTheKestrelEndpointsTheDeploymentOverrides(string project)
    {
        // The deployment sets Url and Protocols of endpoints named "http" and "h2c". If appsettings.json
        // renamed them, the container would bind extra endpoints instead of moving the existing ones.
        var endpoints = ReadJson(project, "appsettings.json")["Kestrel"]!["Endpoints"]!.AsObject();

        Assert.Equal("Http1", (string?)endpoints["http"]!["Protocols"]);
        Assert.Equal("Http2", (string?)endpoints["h2c"]!["Protocols"]);
    }

    [Fact]
    public void EdgeClustersUseEndpointsTheDeploymentDiscovers()
    {
        // Service discovery maps http://_h2c.metrics-api to services:metrics-api:h2c, and
        // http://dashboard-web to services:dashboard-web (http first for an http:// query).
        var edge = deployment.Deployed.App("edge-proxy");
        var clusters = ReadJson("Edge.Proxy", "appsettings.json")["ReverseProxy"]!["Clusters"]!.AsObject();
        var addresses = clusters
            .SelectMany(cluster => cluster.Value!["Destinations"]!.AsObject())
            .Select(destination => new Uri((string)destination.Value!["Address"]!))
            .ToArray();

        Assert.NotEmpty(addresses);
        foreach (var address in addresses)
        {
            // "scheme://_endpoint.service" names one endpoint; "a+b://service" tries each scheme in turn.
            var host = address.Host;
            var named = host.StartsWith('_');
            var service = named ? host[(host.IndexOf('.', StringComparison.Ordinal) + 1)..] : host;
            var endpoints = named ? [host[1..host.IndexOf('.', StringComparison.Ordinal)]] : address.Scheme.Split('+');
            Assert.True(
                endpoints.Any(endpoint => edge.HasVariable($"services__{service}__{endpoint}__0")),
                $"No services__{service}__<{string.Join('|', endpoints)}>__0 variable for destination {address}.");
        }
    }

    [Theory]
    [InlineData("edge-proxy")]
    [InlineData("metrics-api")]
    [InlineData("dashboard-web")]
    public void EveryAppNamesItselfForOpenTelemetryAndHasAspirePublishFlags(string appName)
    {
        var app = deployment.Deployed.App(appName);

        Assert.Equal(appName, app.Value("OTEL_SERVICE_NAME"));
        Assert.Equal("true", app.Value("OTEL_DOTNET_EXPERIMENTAL_OTLP_EMIT_EXCEPTION_LOG_ATTRIBUTES"));
        Assert.Equal("true", app.Value("OTEL_DOTNET_EXPERIMENTAL_OTLP_EMIT_EVENT_LOG_ATTRIBUTES"));
        Assert.Equal("in_memory", app.Value("OTEL_DOTNET_EXPERIMENTAL_OTLP_RETRY"));
        Assert.Equal("true", app.Value("ASPNETCORE_FORWARDEDHEADERS_ENABLED"));
    }

    [Fact]
    public void OtlpEndpointIsLeftToThePlatformByDefault()
    {
        // The environment's Aspire dashboard component is expected to inject OTEL_EXPORTER_OTLP_*
        // (unverified, see docs/deploy.md); a value of ours could shadow it.
        Assert.All(deployment.Deployed.ContainerApps, app =>
        {
            Assert.False(app.HasVariable("OTEL_EXPORTER_OTLP_ENDPOINT"));
            Assert.False(app.HasVariable("OTEL_EXPORTER_OTLP_PROTOCOL"));
        });
    }

    [Fact]
    public void OtlpEndpointOverrideReachesEveryApp()
    {
        Assert.All(deployment.OtlpOverride.ContainerApps, app =>
        {
            Assert.Equal(DeploymentFixture.OtlpOverrideEndpoint, app.Value("OTEL_EXPORTER_OTLP_ENDPOINT"));
            Assert.Equal("grpc", app.Value("OTEL_EXPORTER_OTLP_PROTOCOL"));
        });
    }

    [Fact]
    public void MetricsApiValidatesEntraAccessTokensForItsOwnAudience()
    {
        var api = deployment.Deployed.App("metrics-api");

        var authority = api.Value("Authentication__Schemes__Bearer__Authority");
        Assert.Contains("environment().authentication.loginEndpoint", authority, StringComparison.Ordinal);
        Assert.Contains($"'{DeploymentFixture.TenantId}'", authority, StringComparison.Ordinal);
        Assert.Contains("/v2.0", authority, StringComparison.Ordinal);
        Assert.Equal(DeploymentFixture.MetricsApiClientId, api.Value("Authentication__Schemes__Bearer__ValidAudiences__0"));
        Assert.Equal($"api://{DeploymentFixture.MetricsApiClientId}", api.Value("Authentication__Schemes__Bearer__ValidAudiences__1"));
    }

    [Fact]
    public void DashboardWebSignsInWithEntraOpenIdConnect()
    {
        var dashboard = deployment.Deployed.App("dashboard-web");
        var api = deployment.Deployed.App("metrics-api");

        Assert.Equal(api.Value("Authentication__Schemes__Bearer__Authority"),
            dashboard.Value("Authentication__Schemes__OpenIdConnect__Authority"));
        Assert.Equal(DeploymentFixture.DashboardClientId, dashboard.Value("Authentication__Schemes__OpenIdConnect__ClientId"));
        Assert.NotNull(dashboard.Variable("Authentication__Schemes__OpenIdConnect__ClientSecret")["secretRef"]);
    }

    [Theory]
    [InlineData("edge-proxy")]
    [InlineData("metrics-api")]
    [InlineData("dashboard-web")]
    public void AppsKnowTheirManagedIdentity(string appName)
    {
        var app = deployment.Deployed.App(appName);

        Assert.Contains("Microsoft.ManagedIdentity/userAssignedIdentities/", app.Value("AZURE_CLIENT_ID"), StringComparison.Ordinal);
        Assert.EndsWith(").clientId]", app.Value("AZURE_CLIENT_ID"), StringComparison.Ordinal);
    }

    private JsonNode ReadJson(string project, string file) =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(deployment.RepoRoot, project, file)),
            documentOptions: new System.Text.Json.JsonDocumentOptions { CommentHandling = System.Text.Json.JsonCommentHandling.Skip, AllowTrailingCommas = true })!;
}
