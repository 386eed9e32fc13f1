using System.Net;
using System.Net.Http.Json;
using AppHost.Hosting;
using AppHost.Hosting.Testing;

namespace AppHost.Tests;

[Collection(WholeSystemGroup.Name)]
public sealed class WholeSystemTests
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(2);

    [Fact]
    public async Task The_whole_system_becomes_healthy_and_serves_the_api_and_the_dashboard_through_the_edge()
    {
        await using var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>();
        await using var app = await builder.StartHealthyAsync(StartTimeout);

        using var edge = app.CreateHttpClient("edge-proxy", "https");
        edge.DefaultRequestVersion = HttpVersion.Version20;
        edge.DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact;

        using var api = await edge.GetAsync(new Uri("/api/instance", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, api.StatusCode);
        Assert.Equal(HttpVersion.Version20, api.Version);
        var instance = await api.Content.ReadFromJsonAsync<InstanceInfo>();
        Assert.NotNull(instance);
        Assert.Equal("metrics-api", instance.Service);
        // The edge reaches Metrics.Api over h2c.
        Assert.Equal("HTTP/2", instance.Protocol);
        var metricsApiInstance = Assert.Single(app.ResourceNotifications.GetSnapshot("metrics-api").Replicas).InstanceId;
        Assert.Equal(metricsApiInstance, instance.InstanceId);

        using var dashboard = await edge.GetAsync(new Uri("/", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, dashboard.StatusCode);
        Assert.Equal("text/html", dashboard.Content.Headers.ContentType?.MediaType);

        foreach (var resource in new[] { "metrics-api", "dashboard-web", "edge-proxy" })
        {
            using var client = app.CreateHttpClient(resource, "http");
            using var health = await client.GetAsync(new Uri("/health", UriKind.Relative));
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        }

        // Disposing the application stops every process it started: nothing is left orphaned.
        var processes = app.ResourceNotifications.Snapshots.Values.SelectMany(s => s.Replicas).Select(r => r.ProcessId!.Value).ToList();
        Assert.Equal(3, processes.Count);
        await app.DisposeAsync();
        Assert.DoesNotContain(processes, ProcFs.IsAlive);
    }

    [Fact]
    public async Task WithReplicas_starts_two_processes_with_distinct_instance_ids_both_reachable_through_discovery()
    {
        await using var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>(["--MetricsApi:Replicas=2"]);
        await using var app = await builder.StartHealthyAsync(StartTimeout);

        var replicas = app.ResourceNotifications.GetSnapshot("metrics-api").Replicas;
        Assert.Equal(2, replicas.Length);
        Assert.Equal(2, replicas.Select(r => r.ProcessId).Distinct().Count());
        Assert.Equal(2, replicas.Select(r => r.InstanceId).Distinct().Count());
        Assert.All(replicas, r => Assert.True(ProcFs.IsAlive(r.ProcessId!.Value)));

        var edgeProcess = Assert.Single(app.ResourceNotifications.GetSnapshot("edge-proxy").Replicas).ProcessId!.Value;
        var edgeEnvironment = ProcFs.ReadEnvironment(edgeProcess);
        Assert.Equal(replicas[0].Endpoints["h2c"].ToString().TrimEnd('/'), edgeEnvironment["services__metrics-api__h2c__0"]);
        Assert.Equal(replicas[1].Endpoints["h2c"].ToString().TrimEnd('/'), edgeEnvironment["services__metrics-api__h2c__1"]);

        using var edge = app.CreateHttpClient("edge-proxy", "http");
        var seen = new HashSet<string>();
        for (var request = 0; request < 60 && seen.Count < 2; request++)
        {
            var instance = await edge.GetFromJsonAsync<InstanceInfo>(new Uri("/api/instance", UriKind.Relative));
            seen.Add(instance!.InstanceId);
        }

        Assert.Equal(replicas.Select(r => r.InstanceId).ToHashSet(), seen);
    }

    [Fact]
    public async Task A_stopped_resource_makes_the_edge_answer_with_a_problem_and_after_a_start_it_serves_again_on_the_same_ports()
    {
        await using var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>();
        await using var app = await builder.StartHealthyAsync(StartTimeout);
        using var edge = app.CreateHttpClient("edge-proxy", "http");
        var before = app.ResourceNotifications.GetSnapshot("metrics-api").Replicas[0];

        var stopped = await app.ResourceCommands.ExecuteCommandAsync("metrics-api", KnownResourceCommands.StopCommand);
        Assert.True(stopped.Success, stopped.ErrorMessage);
        Assert.False(ProcFs.IsAlive(before.ProcessId!.Value));
        using (var down = await edge.GetAsync(new Uri("/api/instance", UriKind.Relative)))
        {
            Assert.True(down.StatusCode is HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable, $"got {down.StatusCode}");
            Assert.Equal("application/problem+json", down.Content.Headers.ContentType?.MediaType);
        }

        // A stop on request is not a failure: the application keeps running.
        Assert.Equal(KnownResourceStates.Running, app.ResourceNotifications.GetSnapshot("edge-proxy").State);

        var started = await app.ResourceCommands.ExecuteCommandAsync("metrics-api", KnownResourceCommands.StartCommand);
        Assert.True(started.Success, started.ErrorMessage);
        await app.ResourceNotifications.WaitForResourceHealthyAsync("metrics-api").WaitAsync(StartTimeout);
        var after = app.ResourceNotifications.GetSnapshot("metrics-api").Replicas[0];
        Assert.NotEqual(before.ProcessId, after.ProcessId);
        Assert.Equal(before.Endpoints, after.Endpoints);

        HttpStatusCode status = default;
        for (var attempt = 0; attempt < 50 && status != HttpStatusCode.OK; attempt++)
        {
            using var response = await edge.GetAsync(new Uri("/api/instance", UriKind.Relative));
            status = response.StatusCode;
            if (status != HttpStatusCode.OK)
            {
                await Task.Delay(200);
            }
        }

        Assert.Equal(HttpStatusCode.OK, status);
    }

    [Fact]
    public async Task A_missing_required_parameter_is_a_clear_error_naming_it_and_starts_nothing()
    {
        await using var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>();
        var parameter = builder.AddParameter("required-setting");
        builder.CreateResourceBuilder(builder.GetProject("dashboard-web")).WithEnvironment("REQUIRED_SETTING", parameter);

        await using var app = await builder.BuildAsync();
        var error = await Assert.ThrowsAsync<DistributedApplicationException>(() => app.StartAsync());

        Assert.Contains("'required-setting'", error.Message, StringComparison.Ordinal);
        Assert.Contains("Parameters:required-setting", error.Message, StringComparison.Ordinal);
        Assert.All(app.ResourceNotifications.Snapshots.Values, s => Assert.All(s.Replicas, r => Assert.Null(r.ProcessId)));
    }

    private sealed record InstanceInfo(string Service, string InstanceId, string Protocol);
}
