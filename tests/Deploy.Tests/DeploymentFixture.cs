using System.Text.Json.Nodes;

namespace Deploy.Tests;

/// <summary>
/// Compiles infra/main.bicep once per test run and evaluates it for three parameter sets:
/// <list type="bullet">
/// <item><see cref="Deployed"/>: the steady state (every app exists, defaults everywhere).</item>
/// <item><see cref="FirstProvision"/>: the very first <c>azd provision</c> (no app exists yet).</item>
/// <item><see cref="OtlpOverride"/>: steady state with an explicit OTLP endpoint.</item>
/// </list>
/// Secret parameters get sentinel values, so a test can prove they never show up in clear.
/// Beside that it publishes the AppHost's Aspire manifest, the deployment's source of truth.
/// </summary>
public sealed class DeploymentFixture : IAsyncLifetime
{
    public const string StreamTicketKeySentinel = "SENTINEL-stream-ticket-signing-key-5d1f0c9e2a7b4f3e";
    public const string OidcClientSecretSentinel = "SENTINEL-oidc-client-secret-9b3e7a61";
    public const string RedisPasswordSentinel = "SENTINELredispassword4c8e2a7f1b9d3e5c";
    public const string OtlpOverrideEndpoint = "http://otel-collector.example.internal:4317";
    public const string TenantId = "00000000-0000-0000-0000-0000000000e1";
    public const string MetricsApiClientId = "00000000-0000-0000-0000-0000000000a1";
    public const string DashboardClientId = "00000000-0000-0000-0000-0000000000d1";

    private DirectoryInfo? _workDirectory;

    public DeploymentFixture()
    {
        RepoRoot = Path.GetFullPath(BicepCli.AssemblyMetadata("RepoRoot")
            ?? throw new InvalidOperationException("RepoRoot metadata missing from the test assembly."));
        InfraDirectory = Path.Combine(RepoRoot, "infra");
        AppHostPath = BicepCli.AssemblyMetadata("AppHostPath")
            ?? throw new InvalidOperationException("AppHostPath metadata missing from the test assembly.");
    }

    public string RepoRoot { get; }

    public string InfraDirectory { get; }

    /// <summary>AppHost.dll, built through the ProjectReference in Deploy.Tests.csproj.</summary>
    public string AppHostPath { get; }

    /// <summary>What the AppHost publishes (<c>--publisher manifest</c>).</summary>
    public AspireManifest Manifest { get; private set; } = null!;

    public BicepResult Build { get; private set; } = null!;

    /// <summary>The ARM template azd deploys (output of <c>bicep build</c>).</summary>
    public JsonObject ArmTemplate { get; private set; } = null!;

    public string ArmTemplateText { get; private set; } = "";

    public DeploymentSnapshot Deployed { get; private set; } = null!;

    public DeploymentSnapshot FirstProvision { get; private set; } = null!;

    public DeploymentSnapshot OtlpOverride { get; private set; } = null!;

    public IEnumerable<DeploymentSnapshot> AllSnapshots => [Deployed, FirstProvision, OtlpOverride];

    public async Task InitializeAsync()
    {
        var bicep = BicepCli.Locate(RepoRoot);
        _workDirectory = Directory.CreateTempSubdirectory("deploy-tests-");
        var work = _workDirectory.FullName;
        var mainBicep = Path.Combine(InfraDirectory, "main.bicep");
        var armPath = Path.Combine(work, "main.json");

        // One process each; they run side by side (the CLI's start-up dominates).
        var build = bicep.RunAsync(work, "build", mainBicep, "--outfile", armPath);
        var deployed = SnapshotAsync(bicep, work, "deployed", appsExist: true);
        var firstProvision = SnapshotAsync(bicep, work, "first-provision", appsExist: false);
        var otlpOverride = SnapshotAsync(bicep, work, "otlp-override", appsExist: true,
            $"param otlpEndpoint = '{OtlpOverrideEndpoint}'");
        var manifest = AspireManifest.PublishAsync(AppHostPath, Path.Combine(RepoRoot, "AppHost"), work);

        Build = await build;
        Assert.True(Build.ExitCode == 0, Build.ToString());
        ArmTemplateText = await File.ReadAllTextAsync(armPath);
        ArmTemplate = JsonNode.Parse(ArmTemplateText)!.AsObject();
        Deployed = await deployed;
        FirstProvision = await firstProvision;
        OtlpOverride = await otlpOverride;
        Manifest = await manifest;
    }

    public Task DisposeAsync()
    {
        _workDirectory?.Delete(recursive: true);
        return Task.CompletedTask;
    }

    private async Task<DeploymentSnapshot> SnapshotAsync(
        BicepCli bicep, string work, string name, bool appsExist, params string[] extraParameters)
    {
        var directory = Directory.CreateDirectory(Path.Combine(work, name)).FullName;
        // A .bicepparam must name its template by a relative path.
        var usingPath = Path.GetRelativePath(directory, Path.Combine(InfraDirectory, "main.bicep")).Replace('\\', '/');
        var exists = appsExist ? "true" : "false";
        string[] lines =
        [
            $"using '{usingPath}'",
            "param environmentName = 'ci'",
            "param location = 'westeurope'",
            $"param entraTenantId = '{TenantId}'",
            $"param metricsApiClientId = '{MetricsApiClientId}'",
            $"param dashboardClientId = '{DashboardClientId}'",
            $"param dashboardClientSecret = '{OidcClientSecretSentinel}'",
            $"param streamTicketSigningKey = '{StreamTicketKeySentinel}'",
            $"param redisPassword = '{RedisPasswordSentinel}'",
            $"param edgeProxyExists = {exists}",
            $"param metricsApiExists = {exists}",
            $"param dashboardWebExists = {exists}",
            .. extraParameters,
        ];
        var parameterFile = Path.Combine(directory, "test.bicepparam");
        await File.WriteAllLinesAsync(parameterFile, lines);

        var result = await bicep.RunAsync(directory, "snapshot", parameterFile,
            "--subscription-id", "00000000-0000-0000-0000-000000000001",
            "--tenant-id", TenantId,
            "--location", "westeurope",
            "--deployment-name", $"azd-{name}");
        Assert.True(result.ExitCode == 0, result.ToString());
        var text = await File.ReadAllTextAsync(Path.Combine(directory, "test.snapshot.json"));
        return new DeploymentSnapshot(name, result, text);
    }
}

[CollectionDefinition(Name)]
public sealed class DeploymentGroup : ICollectionFixture<DeploymentFixture>
{
    public const string Name = "deployment";
}
