using System.Globalization;
using System.Net;
using System.Net.Sockets;
using AppHost.Tests.Infrastructure;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;

namespace AppHost.Tests;

/// <summary>
/// The AppHost adds Redis for the replicas' shared event log (issue #16): here, with no container runtime, as a local
/// redis-server process. These tests check the wiring (resource, health, environment, processes), not the backplane.
/// </summary>
[Collection(WholeSystemGroup.Name)]
public sealed class RedisBackplaneTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task With_two_replicas_both_get_the_Redis_backplane_and_a_connection_string_to_a_healthy_local_redis_server()
    {
        var system = await TestSystem.StartAsync(["--MetricsApi:Replicas=2"]);
        List<int> processes;
        await using (system)
        {
            // TestSystem waited for metrics-api, which waits for redis: redis is healthy already.
            Assert.True(system.App.ResourceNotifications.TryGetCurrentState("redis", out var redisState));
            Assert.Equal(Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Healthy, redisState.Snapshot.HealthStatus);
            var redis = Assert.Single(await system.ReplicasAsync("redis"));
            var redisCommandLine = ProcFs.Describe(redis.LauncherProcessId);
            Assert.Contains("redis-server", redisCommandLine, StringComparison.Ordinal);

            var replicas = await system.ReplicasAsync("metrics-api", count: 2);
            var connectionStrings = new HashSet<string>();
            foreach (var replica in replicas)
            {
                var environment = ProcFs.ReadEnvironment(replica.ServiceProcessId);
                Assert.Equal("Redis", environment.GetValueOrDefault("Streaming__Backplane"));
                connectionStrings.Add(Assert.Contains("ConnectionStrings__redis", environment));
            }

            var connectionString = Assert.Single(connectionStrings);
            var (endpoint, password) = Parse(connectionString);
            // The password is in the connection string, and not on redis-server's command line for every user to read.
            Assert.Matches("^[A-Za-z0-9]{32,}$", password);
            Assert.DoesNotContain(password, redisCommandLine, StringComparison.Ordinal);
            Assert.Equal(["-NOAUTH", "+OK", "+PONG"], await AskAsync(endpoint, "PING", $"AUTH {password}", "PING"));

            processes = [redis.LauncherProcessId, .. replicas.SelectMany(r => new[] { r.LauncherProcessId, r.ServiceProcessId })];
        }

        // Disposing the application stops every process it started, redis-server too.
        await ProcFs.WaitUntilGoneAsync(processes, Wait);
    }

    [Theory]
    [InlineData]
    [InlineData("--MetricsApi:Replicas=2", "--Streaming:Backplane=InMemory")]
    public async Task With_one_replica_and_no_backplane_setting_or_with_the_in_memory_one_there_is_no_Redis(params string[] args)
    {
        await using var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>(args);

        Assert.DoesNotContain(builder.Resources, r => r.Name.StartsWith("redis", StringComparison.Ordinal));
        var metricsApi = builder.Resources.OfType<ProjectResource>().Single(r => r.Name == "metrics-api");
        Assert.DoesNotContain(metricsApi.Annotations.OfType<ResourceRelationshipAnnotation>(), r => r.Resource.Name == "redis");
        Assert.DoesNotContain(metricsApi.Annotations.OfType<WaitAnnotation>(), w => w.Resource.Name == "redis");
    }

    [Fact]
    public async Task The_backplane_setting_alone_adds_Redis_for_one_replica_as_a_local_redis_server_here()
    {
        await using var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>(["--Streaming:Backplane=Redis"]);

        // This machine has redis-server and no container runtime (.ci/run installs the former).
        var redis = Assert.Single(builder.Resources.OfType<RedisServerResource>());
        Assert.Equal("redis", redis.Name);
        Assert.True(redis.TryGetAnnotationsOfType<HealthCheckAnnotation>(out var healthChecks) && healthChecks.Any());
        var metricsApi = builder.Resources.OfType<ProjectResource>().Single(r => r.Name == "metrics-api");
        Assert.Contains(metricsApi.Annotations.OfType<WaitAnnotation>(), w => w.Resource == redis);
    }

    private static (DnsEndPoint Endpoint, string Password) Parse(string connectionString)
    {
        // host:port,password=… as Aspire's Redis resource writes it.
        var parts = connectionString.Split(',');
        var separator = parts[0].LastIndexOf(':');
        var endpoint = new DnsEndPoint(parts[0][..separator], int.Parse(parts[0][(separator + 1)..], CultureInfo.InvariantCulture));
        var password = parts.Single(p => p.StartsWith("password=", StringComparison.Ordinal))["password=".Length..];
        return (endpoint, password);
    }

    /// <summary>Sends inline Redis commands and returns the first word of each reply.</summary>
    private static async Task<string[]> AskAsync(DnsEndPoint endpoint, params string[] commands)
    {
        using var timeout = new CancellationTokenSource(Wait);
        using var client = new TcpClient();
        await client.ConnectAsync(endpoint.Host, endpoint.Port, timeout.Token);
        await using var stream = client.GetStream();
        await using var writer = new StreamWriter(stream) { NewLine = "\r\n", AutoFlush = true };
        using var reader = new StreamReader(stream);
        var replies = new List<string>();
        foreach (var command in commands)
        {
            await writer.WriteLineAsync(command);
            var reply = await reader.ReadLineAsync(timeout.Token) ?? "(closed)";
            replies.Add(reply.Split(' ')[0]);
        }

        return [.. replies];
    }
}
