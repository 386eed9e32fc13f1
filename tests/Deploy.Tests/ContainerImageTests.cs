using System.Xml.Linq;

namespace Deploy.Tests;

/// <summary>
/// Container settings in the project files (SDK container publishing) agree with the deployment:
/// image name, a non-root user and exactly the ports the container app uses.
/// </summary>
[Collection(DeploymentGroup.Name)]
public sealed class ContainerImageTests(DeploymentFixture deployment)
{
    public static TheoryData<string, string> Projects => new()
    {
        { "edge-proxy", "Edge.Proxy/Edge.Proxy.csproj" },
        { "metrics-api", "Metrics.Api/Metrics.Api.csproj" },
        { "dashboard-web", "Dashboard.Web/Dashboard.Web.csproj" },
    };

    [Theory]
    [MemberData(nameof(Projects))]
    public void ImageIsNamedAfterTheServiceAndRunsAsTheNonRootAppUser(string appName, string projectPath)
    {
        var project = Load(projectPath);

        Assert.Equal(appName, Property(project, "ContainerRepository"));
        var user = Property(project, "ContainerUser");
        Assert.Equal("app", user); // UID 1654 in the .NET images
        Assert.Null(Property(project, "ContainerBaseImage")); // the SDK's default aspnet:10.0 image
    }

    [Theory]
    [MemberData(nameof(Projects))]
    public void ImageExposesExactlyThePortsTheContainerAppUses(string appName, string projectPath)
    {
        var app = deployment.Deployed.App(appName);
        var used = new SortedSet<int> { app.TargetPort, (int)app.Probe("Liveness")["httpGet"]!["port"]! };
        foreach (var mapping in app.Ingress["additionalPortMappings"]!.AsArray())
        {
            used.Add((int)mapping!["targetPort"]!);
        }

        var exposed = Load(projectPath).Descendants("ContainerPort")
            .Select(port => int.Parse(port.Attribute("Include")!.Value, System.Globalization.CultureInfo.InvariantCulture))
            .Order();

        Assert.Equal(used, exposed);
    }

    private XDocument Load(string projectPath) => XDocument.Load(Path.Combine(deployment.RepoRoot, projectPath));

    private static string? Property(XDocument project, string name) =>
        project.Descendants("PropertyGroup").Elements(name).LastOrDefault()?.Value;
}
