using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AppHost.Tests.Infrastructure;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;

namespace AppHost.Tests;

[Collection(WholeSystemGroup.Name)]
public sealed class WholeSystemTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task The_whole_system_becomes_healthy_and_serves_the_api_and_the_dashboard_through_the_edge()
    {
        var system = await TestSystem.StartAsync();
        IReadOnlyList<int> processes;
        await using (system)
        {
            using var edge = system.Edge();
            using var api = await edge.GetAsync(new Uri("/api/instance", UriKind.Relative));
            Assert.Equal(HttpStatusCode.OK, api.StatusCode);
            Assert.Equal(HttpVersion.Version20, api.Version);
            var instance = await api.Content.ReadFromJsonAsync<InstanceInfo>();
            Assert.NotNull(instance);
            Assert.Equal("metrics-api", instance.Service);
            // The edge reaches Metrics.Api over h2c.
            Assert.Equal("HTTP/2", instance.Protocol);

            using var dashboard = await edge.GetAsync(new Uri("/", UriKind.Relative));
            Assert.Equal(HttpStatusCode.OK, dashboard.StatusCode);
            Assert.Equal("text/html", dashboard.Content.Headers.ContentType?.MediaType);

            foreach (var resource in TestSystem.Services)
            {
                using var client = system.App.CreateHttpClient(resource, "http");
                using var health = await client.GetAsync(new Uri("/health", UriKind.Relative));
                Assert.Equal(HttpStatusCode.OK, health.StatusCode);
            }

            // The Aspire dashboard lists the edge's public endpoint as the live dashboard.
            Assert.True(system.App.ResourceNotifications.TryGetCurrentState("edge-proxy", out var edgeState));
            var page = Assert.Single(edgeState.Snapshot.Urls, u => u.DisplayProperties.DisplayName == "Live dashboard (HTTP/2)");
            Assert.Equal(system.App.GetEndpoint("edge-proxy", "https").ToString().TrimEnd('/'), page.Url.TrimEnd('/'));
            Assert.All(edgeState.Snapshot.Urls.Where(u => u != page), u => Assert.True(u.IsInternal || u.Name is "http" or "h2c"));

            processes = [.. (await Task.WhenAll(TestSystem.Services.Select(s => system.ReplicasAsync(s)))).SelectMany(r => r).SelectMany(r => new[] { r.LauncherProcessId, r.ServiceProcessId })];
            Assert.Equal(6, processes.Distinct().Count());
        }

        // Disposing the application stops every process it started.
        await ProcFs.WaitUntilGoneAsync(processes, Wait);
    }

    [Fact]
    public async Task With_two_replicas_streams_opened_through_the_edge_land_on_both()
    {
        // DCP's proxy gives each new connection to a replica by its own rule, not strictly in turn
        // (microsoft/aspire#6640): the default 4 connections all reached one replica in 2 of 3 CI runs on 2 cores.
        // With 16 the chance that every one does is negligible, and what is tested is the same: spreading the
        // connections spreads the streams.
        const int Connections = 16;
        var tokens = new DevelopmentAccessTokens();
        await using var system = await TestSystem.StartAsync(["--MetricsApi:Replicas=2", tokens.AppHostArgument], builder =>
            builder.CreateResourceBuilder(builder.Resources.OfType<ProjectResource>().Single(r => r.Name == "edge-proxy"))
                .WithEnvironment("Edge__Proxy__UpstreamConnections", Connections.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        var replicas = await system.ReplicasAsync("metrics-api", count: 2);
        Assert.Equal(2, replicas.Select(r => r.Environment["OTEL_RESOURCE_ATTRIBUTES"]).Distinct().Count());
        using var edge = system.Edge();
        using var timeout = new CancellationTokenSource(Wait);

        // Each stream's ready event says which replica serves it; the streams stay open while the others open, two
        // per connection.
        var streams = Enumerable.Range(0, 2 * Connections).Select(i => ServingInstanceAsync(edge, tokens.Mint($"replica-user-{i}"), timeout.Token)).ToList();
        var instances = await Task.WhenAll(streams);

        Assert.Equal(2, instances.Distinct().Count());
        await timeout.CancelAsync();
    }

    [Fact]
    public async Task A_stopped_Metrics_Api_makes_the_edge_answer_with_a_problem_and_after_a_start_it_serves_again()
    {
        // A bound on non-stream requests, so a request held by DCP's proxy is answered in seconds, not after the
        // upstream activity timeout (60 s).
        await using var system = await TestSystem.StartAsync(configure: builder =>
            builder.CreateResourceBuilder(builder.Resources.OfType<ProjectResource>().Single(r => r.Name == "edge-proxy"))
                .WithEnvironment("Edge__Proxy__RequestTimeout", "00:00:05"));
        using var edge = system.Edge();
        var before = Assert.Single(await system.ReplicasAsync("metrics-api"));

        var stopped = await system.App.ResourceCommands.ExecuteCommandAsync(before.ResourceId, KnownResourceCommands.StopCommand);
        Assert.True(stopped.Success, stopped.Message);
        await ProcFs.WaitUntilGoneAsync([before.ServiceProcessId], Wait);
        using (var down = await edge.GetAsync(new Uri("/api/instance", UriKind.Relative)))
        {
            // DCP's proxy keeps accepting connections for a stopped resource and holds them (so a restart loses no
            // request): the edge answers 504 when its request timeout runs out, 502/503 without DCP.
            Assert.True(
                down.StatusCode is HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout,
                $"got {down.StatusCode}");
            Assert.Equal("application/problem+json", down.Content.Headers.ContentType?.MediaType);
        }

        var started = await system.App.ResourceCommands.ExecuteCommandAsync(before.ResourceId, KnownResourceCommands.StartCommand);
        Assert.True(started.Success, started.Message);
        await system.App.ResourceNotifications.WaitForResourceHealthyAsync("metrics-api").WaitAsync(TestSystem.StartTimeout);
        var after = Assert.Single(await system.ReplicasAsync("metrics-api"));
        Assert.NotEqual(before.ServiceProcessId, after.ServiceProcessId);

        var status = await RetryUntilOkAsync(edge, "/api/instance");
        Assert.Equal(HttpStatusCode.OK, status);
    }

    [Fact]
    public async Task The_rebalance_command_ends_every_stream_with_a_jittered_reconnect_and_new_streams_are_served()
    {
        var tokens = new DevelopmentAccessTokens();
        await using var system = await TestSystem.StartAsync([tokens.AppHostArgument]);
        using var edge = system.Edge();
        using var timeout = new CancellationTokenSource(Wait);
        await using (var events = await DevelopmentAccessTokens.OpenStreamAsync(edge, tokens.Mint("rebalance-user"), timeout.Token))
        {
            var last = await events.ReadAsync(Timeout.InfiniteTimeSpan);
            Assert.Equal("ready", last?.EventType);

            var result = await system.App.ResourceCommands.ExecuteCommandAsync("metrics-api", "rebalance-streams");
            Assert.True(result.Success, result.Message);

            await foreach (var item in events.ReadAllAsync())
            {
                last = item;
            }

            Assert.Equal("reconnect", last?.EventType);
            Assert.Equal("rebalance", JsonDocument.Parse(last!.Value.Data).RootElement.GetProperty("reason").GetString());
            Assert.NotNull(last.Value.ReconnectionInterval);
        }

        // The replica still takes streams.
        await using var again = await DevelopmentAccessTokens.OpenStreamAsync(edge, tokens.Mint("rebalance-user"), timeout.Token);
        Assert.Equal("ready", (await again.ReadAsync(Timeout.InfiniteTimeSpan))?.EventType);
    }

    /// <summary>
    /// The replica serving a stream, as its <c>ready</c> event names it (samples come from every replica through the
    /// shared event log), held open until the first sample so the streams overlap.
    /// </summary>
    private static async Task<string> ServingInstanceAsync(HttpClient edge, string accessToken, CancellationToken cancellationToken)
    {
        string? servedBy = null;
        await using var stream = await DevelopmentAccessTokens.OpenStreamAsync(edge, accessToken, cancellationToken);
        await foreach (var item in stream.ReadAllAsync())
        {
            switch (item.EventType)
            {
                case "ready":
                    servedBy = JsonDocument.Parse(item.Data).RootElement.GetProperty("instanceId").GetString();
                    break;
                case "metrics" when servedBy is not null:
                    return servedBy;
            }
        }

        throw new InvalidOperationException("The stream ended before its first sample.");
    }

    private static async Task<HttpStatusCode> RetryUntilOkAsync(HttpClient edge, string path)
    {
        HttpStatusCode status = default;
        for (var attempt = 0; attempt < 50 && status != HttpStatusCode.OK; attempt++)
        {
            using var response = await edge.GetAsync(new Uri(path, UriKind.Relative));
            status = response.StatusCode;
            if (status != HttpStatusCode.OK)
            {
                await Task.Delay(200);
            }
        }

        return status;
    }

    private sealed record InstanceInfo(string Service, string InstanceId, string Protocol);
}
