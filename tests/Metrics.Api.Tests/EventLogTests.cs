using System.Globalization;
using System.Net.ServerSentEvents;
using System.Text.Json;
using Metrics.Api.Streaming;
using Metrics.Api.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;
using Tests.Shared;

namespace Metrics.Api.Tests;

/// <summary>Two replicas on one real redis-server: one event log, resumable on either replica.</summary>
public sealed class EventLogTests
{
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Every_replicas_events_reach_every_replicas_streams_in_one_global_order()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var a = await StartReplicaAsync(redis, "replica-a");
        await using var b = await StartReplicaAsync(redis, "replica-b");
        using var clientA = a.CreateH2cClient();
        using var clientB = b.CreateH2cClient();
        await using var onA = await SseConnection.OpenAsync(clientA);
        await using var onB = await SseConnection.OpenAsync(clientB);
        await onA.ReadUntilAsync(ControlEvents.ReadyType, s_wait);
        await onB.ReadUntilAsync(ControlEvents.ReadyType, s_wait);

        var published = new List<long>();
        for (var i = 0; i < 10; i++)
        {
            published.Add(await (i % 2 == 0 ? a : b).PublishAsync("metrics", $"{{\"n\":{i}}}"));
        }

        Assert.Equal(published.Order(), published);
        Assert.Equal(published, await ReadMetricIdsAsync(onA, published.Count));
        Assert.Equal(published, await ReadMetricIdsAsync(onB, published.Count));
    }

    [Fact]
    public async Task A_client_resumes_on_the_other_replica_with_nothing_missing_and_nothing_twice()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var a = await StartReplicaAsync(redis, "replica-a");
        await using var b = await StartReplicaAsync(redis, "replica-b");
        using var clientA = a.CreateH2cClient();
        using var clientB = b.CreateH2cClient();

        var published = new List<long>();
        List<long> received;
        await using (var onA = await SseConnection.OpenAsync(clientA))
        {
            await onA.ReadUntilAsync(ControlEvents.ReadyType, s_wait);
            for (var i = 0; i < 5; i++)
            {
                published.Add(await b.PublishAsync());
            }

            received = await ReadMetricIdsAsync(onA, 5);
        }

        // Missed while away, from both replicas.
        for (var i = 0; i < 6; i++)
        {
            published.Add(await (i % 2 == 0 ? a : b).PublishAsync());
        }

        await using var onB = await SseConnection.OpenAsync(clientB, lastEventId: received[^1].ToString(CultureInfo.InvariantCulture));
        Assert.Equal(ControlEvents.ReadyType, (await onB.ReadAsync(s_wait))?.EventType);
        received.AddRange(await ReadMetricIdsAsync(onB, 6));
        for (var i = 0; i < 3; i++)
        {
            published.Add(await a.PublishAsync());
        }

        received.AddRange(await ReadMetricIdsAsync(onB, 3));
        Assert.Equal(published, received);
    }

    [Fact]
    public async Task A_resume_point_older_than_the_replay_window_is_a_gap_then_the_newest_events()
    {
        await using var redis = await RedisServer.StartAsync();
        var small = new Dictionary<string, string?> { ["Streaming:ReplayCapacity"] = "5" };
        await using var a = await StartReplicaAsync(redis, "replica-a", small);
        await using var b = await StartReplicaAsync(redis, "replica-b", small);
        var published = new List<long>();
        for (var i = 0; i < 30; i++)
        {
            published.Add(await a.PublishAsync());
        }

        using var clientB = b.CreateH2cClient();
        await using var onB = await SseConnection.OpenAsync(clientB, lastEventId: published[0].ToString(CultureInfo.InvariantCulture));
        Assert.Equal(ControlEvents.ReadyType, (await onB.ReadAsync(s_wait))?.EventType);
        var gap = await onB.ReadAsync(s_wait);

        Assert.Equal(ControlEvents.GapType, gap?.EventType);
        var data = JsonDocument.Parse(gap!.Value.Data).RootElement;
        Assert.Equal("not_held", data.GetProperty("reason").GetString());
        Assert.Equal(published[0], data.GetProperty("lastEventId").GetInt64());
        Assert.Equal(published[^5], data.GetProperty("firstAvailableId").GetInt64());
        Assert.Equal(published[^5..], await ReadMetricIdsAsync(onB, 5));
    }

    [Fact]
    public async Task Redis_stopped_and_started_again_streams_stay_open_say_so_and_carry_on()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var a = await StartReplicaAsync(redis, "replica-a");
        using var client = a.CreateH2cClient();
        await using var stream = await SseConnection.OpenAsync(client);
        await stream.ReadUntilAsync(ControlEvents.ReadyType, s_wait);
        var before = await a.PublishAsync();
        Assert.Equal([before], await ReadMetricIdsAsync(stream, 1));

        await redis.StopAsync();
        var unavailable = await stream.ReadUntilAsync(ControlEvents.BackplaneType, s_wait);
        Assert.Equal("unavailable", JsonDocument.Parse(unavailable.Data).RootElement.GetProperty("status").GetString());

        // This replica's own samples still reach its streams, without an id (they are not in the log).
        Assert.Equal(0, await a.PublishAsync("metrics", "{\"during\":true}"));
        var during = await stream.ReadUntilAsync("metrics", s_wait);
        Assert.Null(during.EventId);
        Assert.Contains("during", during.Data, StringComparison.Ordinal);

        await redis.RestartAsync();
        var available = await stream.ReadUntilAsync(ControlEvents.BackplaneType, s_wait);
        Assert.Equal("available", JsonDocument.Parse(available.Data).RootElement.GetProperty("status").GetString());
        var after = await PublishWhenAcceptedAsync(a);
        Assert.True(after > before, "ids keep growing after Redis restarted empty");
        Assert.Equal([after], await ReadMetricIdsAsync(stream, 1));
        Assert.Equal(1, a.Subscribers.Count);
        // The Redis client logs each failed reconnect as an error, which is its business; ours logged nothing as one.
        Assert.DoesNotContain(a.Logs.Errors, e => !e.Contains("StackExchange.Redis", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Ten_seconds_without_Redis_queue_nothing_up_and_the_log_resumes_after()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var a = await StartReplicaAsync(redis, "replica-a");
        using var client = a.CreateH2cClient();
        await using var stream = await SseConnection.OpenAsync(client);
        await stream.ReadUntilAsync(ControlEvents.ReadyType, s_wait);
        var multiplexer = a.Services.GetRequiredService<IConnectionMultiplexer>();

        await redis.StopAsync();
        await stream.ReadUntilAsync(ControlEvents.BackplaneType, s_wait);
        // 10 s of samples at 100/s while Redis is gone: each reaches the stream at once; none waits for Redis.
        var outage = System.Diagnostics.Stopwatch.StartNew();
        var published = 0;
        var mostOutstanding = 0L;
        while (outage.Elapsed < TimeSpan.FromSeconds(10))
        {
            Assert.Equal(0, await a.PublishAsync("metrics", "{\"during\":true}"));
            published++;
            mostOutstanding = Math.Max(mostOutstanding, multiplexer.GetCounters().TotalOutstanding);
            await Task.Delay(10);
        }

        var delivered = 0;
        while (delivered < published)
        {
            var item = await stream.ReadAsync(s_wait) ?? throw new InvalidOperationException("The stream ended.");
            if (item.EventType == "metrics")
            {
                Assert.Null(item.EventId);
                delivered++;
            }
        }

        Assert.InRange(mostOutstanding, 0, 10);

        await redis.RestartAsync();
        await stream.ReadUntilAsync(ControlEvents.BackplaneType, s_wait);
        var after = await PublishWhenAcceptedAsync(a);
        Assert.Equal([after], await ReadMetricIdsAsync(stream, 1));
    }

    [Fact]
    public async Task A_replica_started_while_Redis_is_down_serves_streams_and_joins_the_log_when_it_comes()
    {
        await using var redis = await RedisServer.StartAsync();
        await redis.StopAsync();
        await using var a = await StartReplicaAsync(redis, "replica-a");
        using var client = a.CreateH2cClient();
        await using var stream = await SseConnection.OpenAsync(client);
        await stream.ReadUntilAsync(ControlEvents.ReadyType, s_wait);
        var unavailable = await stream.ReadUntilAsync(ControlEvents.BackplaneType, s_wait);
        Assert.Equal("unavailable", JsonDocument.Parse(unavailable.Data).RootElement.GetProperty("status").GetString());

        await redis.RestartAsync();
        var available = await stream.ReadUntilAsync(ControlEvents.BackplaneType, s_wait);
        Assert.Equal("available", JsonDocument.Parse(available.Data).RootElement.GetProperty("status").GetString());
        var id = await PublishWhenAcceptedAsync(a);
        Assert.Equal([id], await ReadMetricIdsAsync(stream, 1));
    }

    private static async Task<long> PublishWhenAcceptedAsync(TestApp app)
    {
        // Redis reported available to the reader first; the publisher's connection may take a moment more.
        var deadline = DateTime.UtcNow + s_wait;
        while (true)
        {
            var id = await app.PublishAsync();
            if (id != 0 || DateTime.UtcNow > deadline)
            {
                return id;
            }

            await Task.Delay(100);
        }
    }

    private static async Task<List<long>> ReadMetricIdsAsync(SseConnection stream, int count)
    {
        var ids = new List<long>();
        while (ids.Count < count)
        {
            var item = await stream.ReadAsync(s_wait) ?? throw new InvalidOperationException("The stream ended.");
            Assert.NotEqual(ControlEvents.GapType, item.EventType);
            if (item.EventType == "metrics" && item.EventId is { } id)
            {
                ids.Add(long.Parse(id, CultureInfo.InvariantCulture));
            }
        }

        return ids;
    }

    private static Task<TestApp> StartReplicaAsync(RedisServer redis, string instanceId, Dictionary<string, string?>? settings = null)
    {
        var merged = new Dictionary<string, string?>
        {
            ["OTEL_RESOURCE_ATTRIBUTES"] = $"service.instance.id={instanceId}",
            ["Streaming:Backplane"] = "Redis",
            ["ConnectionStrings:redis"] = redis.ConnectionString + ",asyncTimeout=2000,syncTimeout=2000",
            ["Streaming:EventLog:PollInterval"] = "00:00:00.200",
        };
        foreach (var (key, value) in settings ?? [])
        {
            merged[key] = value;
        }

        return TestApp.StartAsync(merged);
    }
}
