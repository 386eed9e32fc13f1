using System.Globalization;
using System.Net.ServerSentEvents;
using System.Text.Json;
using AppHost.Tests.Infrastructure;
using Aspire.Hosting.ApplicationModel;
using StackExchange.Redis;

namespace AppHost.Tests;

/// <summary>Two Metrics.Api replicas on the Redis event log, behind the real edge (issue #16's acceptance).</summary>
[Collection(WholeSystemGroup.Name)]
public sealed class ScaleOutTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private const string EventLogKey = "live-metrics:events";

    [Fact]
    public async Task A_client_whose_replica_is_stopped_resumes_on_the_other_with_every_event_once_and_in_order()
    {
        var tokens = new DevelopmentAccessTokens();
        await using var system = await TestSystem.StartAsync(["--MetricsApi:Replicas=2", tokens.AppHostArgument]);
        var replicas = await system.ReplicasAsync("metrics-api", count: 2);
        using var edge = system.Edge();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        var token = tokens.Mint("scale-out-user");
        var received = new List<long>();
        var sampleSources = new HashSet<string>();

        // A stream through the edge: its replica says who it is; the samples of both replicas arrive on it, one log.
        string servedBy;
        Replica serving;
        Task<ExecuteCommandResult> stopping;
        await using (var first = await DevelopmentAccessTokens.OpenStreamAsync(edge, token, timeout.Token))
        {
            servedBy = InstanceOf(await first.ReadUntilAsync("ready", Timeout.InfiniteTimeSpan));
            while (sampleSources.Count < 2 || received.Count < 4)
            {
                var sample = await first.ReadUntilAsync("metrics", Timeout.InfiniteTimeSpan);
                received.Add(long.Parse(sample.EventId!, CultureInfo.InvariantCulture));
                sampleSources.Add(InstanceOf(sample));
            }

            // Its replica is stopped as the Aspire dashboard's Stop does it: the stream ends with its farewell.
            serving = Assert.Single(replicas, r => r.Environment["OTEL_RESOURCE_ATTRIBUTES"].Contains(servedBy, StringComparison.Ordinal));
            stopping = system.App.ResourceCommands.ExecuteCommandAsync(serving.ResourceId, KnownResourceCommands.StopCommand, timeout.Token);

            try
            {
                await foreach (var item in first.ReadAllAsync())
                {
                    Assert.NotEqual("gap", item.EventType);
                    if (item.EventType == "metrics")
                    {
                        received.Add(long.Parse(item.EventId!, CultureInfo.InvariantCulture));
                    }
                }
            }
            catch (Exception e) when (e is HttpRequestException or IOException)
            {
                // Cut rather than ended: as good as an end here.
            }
        }

        var stopped = await stopping;
        Assert.True(stopped.Success, stopped.Message);
        await ProcFs.WaitUntilGoneAsync([serving.ServiceProcessId], TimeSpan.FromSeconds(60));
        output.WriteLine($"{servedBy} stopped; {received.Count} events so far");

        // The client comes back with its Last-Event-ID and lands on the other replica.
        var resumeAfter = received[^1];
        await using var resumed = await OpenOnAnotherReplicaAsync(edge, token, resumeAfter, servedBy, timeout.Token);
        while (received.Count < 12)
        {
            var item = await resumed.ReadAsync(Timeout.InfiniteTimeSpan) ?? throw new InvalidOperationException("The stream ended before a 'metrics' event.");
            Assert.NotEqual("gap", item.EventType);
            if (item.EventType == "metrics")
            {
                received.Add(long.Parse(item.EventId!, CultureInfo.InvariantCulture));
            }
        }

        // Every entry of the log between the first and the last event received, once, in order.
        var other = Assert.Single(replicas, r => r != serving);
        var connectionString = ProcFs.ReadEnvironment(other.ServiceProcessId).GetValueOrDefault("ConnectionStrings__redis")
            ?? throw new InvalidOperationException("No Redis connection string.");
        await using var redis = await ConnectionMultiplexer.ConnectAsync(connectionString);
        var log = await redis.GetDatabase().StreamRangeAsync(EventLogKey, ToEntryId(received[0]), ToEntryId(received[^1]));
        Assert.Equal(log.Where(e => (string?)e["t"] == "metrics").Select(e => ToEventId(e.Id)), received);
        Assert.Equal(2, sampleSources.Count);
    }

    private static async Task<SseConnection> OpenOnAnotherReplicaAsync(HttpClient edge, string token, long lastEventId, string stoppedInstance, CancellationToken cancellationToken)
    {
        while (true)
        {
            // Each try has 15 s to get its first event (once open); the one that does keeps its stream.
            SseConnection? stream = null;
            try
            {
                stream = await DevelopmentAccessTokens.OpenStreamAsync(edge, token, cancellationToken, lastEventId);
                var ready = await stream.ReadUntilAsync("ready", TimeSpan.FromSeconds(15));
                Assert.NotEqual(stoppedInstance, InstanceOf(ready));
                return stream;
            }
            catch (Exception exception) when (exception is HttpRequestException or OperationCanceledException or InvalidOperationException or TimeoutException
                && !cancellationToken.IsCancellationRequested)
            {
                // The edge may still be finding out that a connection led to the stopped replica: try again.
                if (stream is not null)
                {
                    await stream.DisposeAsync();
                }

                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
            }
        }
    }

    private static string InstanceOf(SseItem<string> item) => JsonDocument.Parse(item.Data).RootElement.GetProperty("instanceId").GetString()!;

    private static string ToEntryId(long eventId) => string.Create(CultureInfo.InvariantCulture, $"{eventId / 1000}-{eventId % 1000}");

    private static long ToEventId(RedisValue entryId)
    {
        var parts = entryId.ToString().Split('-');
        return (long.Parse(parts[0], CultureInfo.InvariantCulture) * 1000) + long.Parse(parts[1], CultureInfo.InvariantCulture);
    }
}
