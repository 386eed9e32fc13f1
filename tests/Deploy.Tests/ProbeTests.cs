using System.Text.RegularExpressions;

namespace Deploy.Tests;

/// <summary>
/// Health probes hit the HTTP/1.1 port: an HTTP/2-only Kestrel endpoint answers HTTP/1.1 with 400.
/// Paths are the ones ServiceDefaults maps in every environment.
/// </summary>
[Collection(DeploymentGroup.Name)]
public sealed partial class ProbeTests(DeploymentFixture deployment)
{
    public static TheoryData<string> Apps => ["edge-proxy", "metrics-api", "dashboard-web"];

    [Theory]
    [MemberData(nameof(Apps))]
    public void ProbesTargetTheHttp1Port(string appName)
    {
        var app = deployment.Deployed.App(appName);
        var http1Port = app.HasVariable("Kestrel__Endpoints__http__Url")
            ? app.KestrelPort("http")
            : int.Parse(app.Value("ASPNETCORE_HTTP_PORTS"), System.Globalization.CultureInfo.InvariantCulture);
        if (app.HasVariable("Kestrel__Endpoints__http__Protocols"))
        {
            Assert.Equal("Http1", app.KestrelProtocols("http"));
        }

        foreach (var type in new[] { "Startup", "Liveness", "Readiness" })
        {
            var httpGet = app.Probe(type)["httpGet"]!;
            Assert.Equal(http1Port, (int)httpGet["port"]!);
            Assert.Equal("HTTP", (string?)httpGet["scheme"]);
            if (app.HasVariable("Kestrel__Endpoints__h2c__Url"))
            {
                Assert.NotEqual(app.KestrelPort("h2c"), (int)httpGet["port"]!);
            }
        }
    }

    [Theory]
    [MemberData(nameof(Apps))]
    public void ProbePathsAreTheServiceDefaultsHealthEndpoints(string appName)
    {
        var app = deployment.Deployed.App(appName);
        var (health, alive) = ServiceDefaultsPaths();

        Assert.Equal(alive, (string?)app.Probe("Liveness")["httpGet"]!["path"]);
        Assert.Equal(health, (string?)app.Probe("Readiness")["httpGet"]!["path"]);
        Assert.Equal(alive, (string?)app.Probe("Startup")["httpGet"]!["path"]);
    }

    [Theory]
    [MemberData(nameof(Apps))]
    public void StartupProbeAllowsHalfAMinuteToStart(string appName)
    {
        var startup = deployment.Deployed.App(appName).Probe("Startup");

        Assert.True((int)startup["periodSeconds"]! * (int)startup["failureThreshold"]! >= 30);
    }

    private (string Health, string Alive) ServiceDefaultsPaths()
    {
        // ServiceDefaults/Extensions.cs is the single source of the paths; read it rather than copy it.
        var source = File.ReadAllText(Path.Combine(deployment.RepoRoot, "ServiceDefaults", "Extensions.cs"));
        return (Constant(source, "HealthEndpointPath"), Constant(source, "AlivenessEndpointPath"));
    }

    private static string Constant(string source, string name)
    {
        var match = ConstantPattern().Matches(source).SingleOrDefault(m => m.Groups["name"].Value == name);
        Assert.True(match is not null, $"const string {name} not found in ServiceDefaults/Extensions.cs");
        return match.Groups["value"].Value;
    }

    [GeneratedRegex("""const string (?<name>\w+) = "(?<value>[^"]*)";""")]
    private static partial Regex ConstantPattern();
}
