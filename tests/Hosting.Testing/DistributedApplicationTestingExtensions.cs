namespace AppHost.Hosting.Testing;

public static class DistributedApplicationTestingExtensions
{
    /// <summary>
    /// An HttpClient for a resource's endpoint (default: http, then https), trusting the run's
    /// development certificate on loopback, as Aspire.Hosting.Testing's CreateHttpClient.
    /// </summary>
    public static HttpClient CreateHttpClient(this DistributedApplication app, string resourceName, string? endpointName = null) =>
        new(LoopbackHttp.CreateHandler()) { BaseAddress = app.GetEndpoint(resourceName, endpointName) };

    /// <summary>Finds a project resource the AppHost's Program.cs declared.</summary>
    public static ProjectResource GetProject(this IDistributedApplicationBuilder builder, string name) =>
        builder.Resources.OfType<ProjectResource>().SingleOrDefault(r => r.Name == name)
            ?? throw new ArgumentException($"The AppHost declares no project named '{name}'.", nameof(name));

    /// <summary>Builds and starts, and waits until every project resource is healthy.</summary>
    public static async Task<DistributedApplication> StartHealthyAsync(this IDistributedApplicationTestingBuilder builder, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        var app = await builder.BuildAsync(cts.Token).WaitAsync(cts.Token);
        await app.StartAsync(cts.Token).WaitAsync(cts.Token);
        foreach (var project in builder.Resources.OfType<ProjectResource>())
        {
            await app.ResourceNotifications.WaitForResourceHealthyAsync(project.Name, cts.Token).WaitAsync(cts.Token);
        }

        return app;
    }
}
