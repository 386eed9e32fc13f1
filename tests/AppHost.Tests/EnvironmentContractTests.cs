using System.Text.RegularExpressions;
using AppHost.Hosting;
using AppHost.Hosting.Testing;

namespace AppHost.Tests;

/// <summary>
/// The variables each process really received (read from /proc/PID/environ) follow Aspire's
/// contract (research/aspire.md §1), so a real Aspire AppHost could run the services unchanged.
/// </summary>
[Collection(WholeSystemGroup.Name)]
public sealed partial class EnvironmentContractTests
{
    private const string OtlpEndpoint = "http://127.0.0.1:9";

    [Fact]
    public async Task Every_resource_receives_the_aspire_environment_contract()
    {
        await using var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>(
            [$"--ASPIRE_DASHBOARD_OTLP_ENDPOINT_URL={OtlpEndpoint}", "--AppHost:OtlpApiKey=contract-test-key"]);
        var secret = builder.AddParameter("contract-secret", secret: true);
        builder.CreateResourceBuilder(builder.GetProject("metrics-api")).WithEnvironment("CONTRACT_SECRET", secret);
        await using var app = await builder.StartHealthyAsync(TimeSpan.FromMinutes(2));

        var metricsApi = Single(app, "metrics-api");
        var dashboardWeb = Single(app, "dashboard-web");
        var edge = Single(app, "edge-proxy");
        var api = ProcFs.ReadEnvironment(metricsApi.ProcessId!.Value);
        var web = ProcFs.ReadEnvironment(dashboardWeb.ProcessId!.Value);
        var proxy = ProcFs.ReadEnvironment(edge.ProcessId!.Value);

        // Endpoints: projects with Kestrel:Endpoints get one URL override per endpoint; others ASPNETCORE_URLS.
        Assert.Equal(Url(metricsApi, "http"), api["Kestrel__Endpoints__http__Url"]);
        Assert.Equal(Url(metricsApi, "h2c"), api["Kestrel__Endpoints__h2c__Url"]);
        Assert.False(api.ContainsKey("ASPNETCORE_URLS"));
        Assert.Equal(Url(dashboardWeb, "http"), web["ASPNETCORE_URLS"]);
        Assert.Equal(Url(edge, "https"), proxy["Kestrel__Endpoints__https__Url"]);
        Assert.Equal(edge.Endpoints["https"].Port.ToString(System.Globalization.CultureInfo.InvariantCulture), proxy["ASPNETCORE_HTTPS_PORT"]);
        Assert.Matches(LoopbackUrl(), api["Kestrel__Endpoints__http__Url"]);

        // Launch profile and environment name.
        foreach (var environment in new[] { api, web, proxy })
        {
            Assert.Equal("Development", environment["ASPNETCORE_ENVIRONMENT"]);
            Assert.Equal("http", environment["DOTNET_LAUNCH_PROFILE"]);
            Assert.Equal("simple", environment["LOGGING__CONSOLE__FORMATTERNAME"]);
            Assert.Equal("true", environment["DOTNET_SYSTEM_CONSOLE_ALLOW_ANSI_COLOR_REDIRECTION"]);
            Assert.Equal(OtlpEndpoint, environment["OTEL_EXPORTER_OTLP_ENDPOINT"]);
            Assert.Equal("grpc", environment["OTEL_EXPORTER_OTLP_PROTOCOL"]);
            Assert.Equal("x-otlp-api-key=contract-test-key", environment["OTEL_EXPORTER_OTLP_HEADERS"]);
            Assert.Equal("in_memory", environment["OTEL_DOTNET_EXPERIMENTAL_OTLP_RETRY"]);
            Assert.Equal("1000", environment["OTEL_METRIC_EXPORT_INTERVAL"]);
            Assert.Equal("always_on", environment["OTEL_TRACES_SAMPLER"]);
            // Deliberately unlike Aspire: query strings carry stream tickets and stay redacted.
            Assert.False(environment.ContainsKey("OTEL_DOTNET_EXPERIMENTAL_ASPNETCORE_DISABLE_URL_QUERY_REDACTION"));
        }

        Assert.Equal("metrics-api", api["OTEL_SERVICE_NAME"]);
        Assert.Equal("dashboard-web", web["OTEL_SERVICE_NAME"]);
        Assert.Equal("edge-proxy", proxy["OTEL_SERVICE_NAME"]);
        Assert.Equal($"service.instance.id={metricsApi.InstanceId}", api["OTEL_RESOURCE_ATTRIBUTES"]);
        Assert.Matches(InstanceId(), metricsApi.InstanceId);
        Assert.Equal(3, new[] { metricsApi.InstanceId, dashboardWeb.InstanceId, edge.InstanceId }.Distinct().Count());

        // Service discovery for references, in both the services__ and the 13.x {NAME}_{ENDPOINT} forms.
        Assert.Equal(Url(metricsApi, "http"), web["services__metrics-api__http__0"]);
        Assert.Equal(Url(metricsApi, "h2c"), web["services__metrics-api__h2c__0"]);
        Assert.Equal(Url(metricsApi, "http"), web["METRICS_API_HTTP"]);
        Assert.Equal(Url(metricsApi, "h2c"), proxy["services__metrics-api__h2c__0"]);
        Assert.Equal(Url(dashboardWeb, "http"), proxy["services__dashboard-web__http__0"]);
        Assert.Equal(Url(dashboardWeb, "http"), proxy["DASHBOARD_WEB_HTTP"]);
        Assert.DoesNotContain(api.Keys, k => k.StartsWith("services__", StringComparison.Ordinal));

        // A secret parameter with no configured value gets a fresh random value, and no log line shows it.
        var secretValue = api["CONTRACT_SECRET"];
        Assert.True(Convert.FromBase64String(secretValue).Length >= 32);
        Assert.DoesNotContain(app.ResourceLogs.GetAllLines(), line => line.Text.Contains(secretValue, StringComparison.Ordinal));
    }

    private static ReplicaSnapshot Single(DistributedApplication app, string resource) =>
        Assert.Single(app.ResourceNotifications.GetSnapshot(resource).Replicas);

    private static string Url(ReplicaSnapshot replica, string endpoint) => replica.Endpoints[endpoint].ToString().TrimEnd('/');

    [GeneratedRegex("^https?://localhost:[0-9]{2,5}$")]
    private static partial Regex LoopbackUrl();

    [GeneratedRegex("^[a-z0-9]{8}$")]
    private static partial Regex InstanceId();
}
