using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using Metrics.Api.Auth;
using Metrics.Api.Backplane;
using Metrics.Api.Streaming;
using Metrics.Api.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Options;
using StackExchange.Redis;
using Tests.Shared;

namespace Metrics.Api.Tests.Backplane;

/// <summary>
/// Replicas of Metrics.Api sharing one real redis-server (<c>Streaming:Backplane</c> = <c>Redis</c>): tickets single-use
/// across them, per-user limits counted across them, leases of a dead replica expiring, and what an outage does.
/// </summary>
public sealed class RedisBackplaneTests
{
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(15);

    /// <summary>A reconnect after an outage: the client retries with a backoff of a few seconds.</summary>
    private static readonly TimeSpan s_reconnectWait = TimeSpan.FromSeconds(45);

    [Fact]
    public async Task A_ticket_minted_on_one_replica_opens_one_stream_on_the_other_is_refused_after_on_both_and_wins_one_race()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var one = await StartReplicaAsync(redis);
        await using var two = await StartReplicaAsync(redis);
        using var clientOne = one.CreateHttp1Client(null);
        using var clientTwo = two.CreateHttp1Client(null);

        var ticket = await Requests.TicketAsync(clientOne, TestTokens.DefaultAccessToken);
        var first = await Requests.GetAsync(clientTwo, Requests.TicketQuery(ticket));
        var againOnTwo = await Requests.GetAsync(clientTwo, Requests.TicketQuery(ticket));
        var againOnOne = await Requests.GetAsync(clientOne, Requests.TicketQuery(ticket));

        Assert.Equal(HttpStatusCode.OK, first.Status);
        Assert.Equal(ControlEvents.ReadyType, first.FirstEvent?.EventType);
        Assert.Equal(HttpStatusCode.Unauthorized, againOnTwo.Status);
        Assert.Equal(HttpStatusCode.Unauthorized, againOnOne.Status);
        Assert.IsType<RedisTicketReplayCache>(one.Services.GetRequiredService<ITicketReplayCache>());

        // One ticket sent to both replicas at once: exactly one stream.
        var raced = await Requests.TicketAsync(clientTwo, TestTokens.DefaultAccessToken);
        var answers = await Task.WhenAll(
            Requests.GetAsync(clientOne, Requests.TicketQuery(raced)),
            Requests.GetAsync(clientTwo, Requests.TicketQuery(raced)));
        Assert.Single(answers, a => a.Status == HttpStatusCode.OK);
        Assert.Single(answers, a => a.Status == HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task A_user_at_the_limit_on_one_replica_is_refused_on_the_other_until_a_stream_closes()
    {
        await using var redis = await RedisServer.StartAsync();
        var limits = new Dictionary<string, string?> { ["Streaming:Limits:MaxStreamsPerUser"] = "2", ["Streaming:Limits:RetryAfter"] = "00:00:07" };
        await using var one = await StartReplicaAsync(redis, limits);
        await using var two = await StartReplicaAsync(redis, limits);
        var alice = TestTokens.Access("alice");
        using var aliceOnOne = one.CreateHttp1Client(alice);

        await using var first = await OpenAsync(aliceOnOne);
        var second = await OpenAsync(aliceOnOne);
        using var twoClient = two.CreateHttp1Client(null);
        var refused = await Requests.GetAsync(twoClient, SseConnection.StreamPath, alice);
        var bob = await Requests.GetAsync(twoClient, SseConnection.StreamPath, TestTokens.Access("bob"));

        Assert.Equal(HttpStatusCode.TooManyRequests, refused.Status);
        Assert.Equal(TimeSpan.FromSeconds(7), refused.Headers.RetryAfter?.Delta);
        Assert.Equal("application/problem+json", refused.ContentHeaders?.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.OK, bob.Status);

        // A stream that ends on replica one gives its slot back on replica two (the release, not the lease's expiry:
        // leases here live 30 s).
        await second.DisposeAsync();
        var stopwatch = Stopwatch.StartNew();
        await EventuallyAsync(async () => (await Requests.GetAsync(twoClient, SseConnection.StreamPath, alice)).Status == HttpStatusCode.OK,
            s_wait, "replica two accepts alice once a stream of hers on replica one closed");
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(10), $"released, not expired: took {stopwatch.Elapsed}");
    }

    [Fact]
    public async Task The_leases_of_a_replica_killed_without_releasing_them_expire_after_the_lease_ttl()
    {
        await using var redis = await RedisServer.StartAsync();
        var ttl = TimeSpan.FromSeconds(3);
        await using var survivor = await StartReplicaAsync(redis, new Dictionary<string, string?>
        {
            ["Streaming:Limits:MaxStreamsPerUser"] = "1",
            ["Streaming:Limits:LeaseTtl"] = "00:00:03",
        });
        var carol = TestTokens.Access("carol");
        var doomed = await MetricsApiProcess.StartAsync(new Dictionary<string, string>
        {
            ["Streaming__Backplane"] = "Redis",
            ["ConnectionStrings__redis"] = redis.ConnectionString,
            ["Streaming__Limits__MaxStreamsPerUser"] = "1",
            ["Streaming__Limits__LeaseTtl"] = "00:00:03",
        });
        var killed = false;
        try
        {
            using var doomedClient = StreamClients.Http1(doomed.Http1Address, carol);
            var stream = await OpenAsync(doomedClient);
            using var survivorClient = survivor.CreateHttp1Client(null);
            // Past the lease's first expiry: the dead-to-be replica renews it.
            var database = survivor.Services.GetRequiredService<IConnectionMultiplexer>().GetDatabase();
            await WaitPastFirstExpiryAsync(database, RedisUserStreamLimiter.KeyPrefix + "carol");
            Assert.Equal(HttpStatusCode.TooManyRequests, (await Requests.GetAsync(survivorClient, SseConnection.StreamPath, carol)).Status);

            // SIGKILL: no stream ends, no lease is released.
            await doomed.DisposeAsync();
            killed = true;
            var sinceKill = Stopwatch.StartNew();
            await EventuallyAsync(
                async () => (await Requests.GetAsync(survivorClient, SseConnection.StreamPath, carol)).Status == HttpStatusCode.OK,
                s_wait,
                "carol's lease on the killed replica expires");
            Assert.True(sinceKill.Elapsed <= ttl + TimeSpan.FromSeconds(3), $"expired within the TTL: took {sinceKill.Elapsed}");
            await stream.DisposeAsync();
        }
        finally
        {
            if (!killed)
            {
                await doomed.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task With_Redis_stopped_tickets_are_503_limits_count_locally_health_is_degraded_and_all_recovers_when_it_is_back()
    {
        await using var redis = await RedisServer.StartAsync();
        var settings = new Dictionary<string, string?>
        {
            ["Streaming:Limits:MaxStreamsPerUser"] = "1",
            ["Streaming:Limits:LeaseTtl"] = "00:00:03",
        };
        await using var one = await StartReplicaAsync(redis, settings);
        await using var two = await StartReplicaAsync(redis, settings);
        using var fallbacks = new MetricCollector<long>(
            one.Services.GetRequiredService<IMeterFactory>(), StreamMetrics.MeterName, BackplaneMetrics.LimitFallbacksName);
        using var anonymousOne = one.CreateHttp1Client(null);
        using var anonymousTwo = two.CreateHttp1Client(null);
        var dave = TestTokens.Access("dave");
        Assert.Equal("Healthy", await HealthAsync(anonymousOne));

        await redis.StopAsync();
        await EventuallyAsync(async () => await HealthAsync(anonymousOne) == "Degraded", s_wait, "health reports Degraded with Redis down");

        // Tickets: refused with 503 + Retry-After as a problem (fail closed), not 500 and not 401.
        var ticket = await Requests.TicketAsync(anonymousOne, TestTokens.DefaultAccessToken);
        var unverified = await Requests.GetAsync(anonymousOne, Requests.TicketQuery(ticket));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, unverified.Status);
        Assert.Equal("application/problem+json", unverified.ContentHeaders?.ContentType?.MediaType);
        Assert.NotNull(unverified.Headers.RetryAfter?.Delta);
        Assert.Empty(unverified.Headers.WwwAuthenticate);
        Assert.DoesNotContain(ticket, unverified.AllText, StringComparison.Ordinal);
        Assert.DoesNotContain(one.Logs.Everything, e => e.Contains(ticket, StringComparison.Ordinal));

        // Limits: this replica's own count decides; the process keeps serving.
        using var daveOnOne = one.CreateHttp1Client(dave);
        var admitted = await OpenAsync(daveOnOne);
        var refused = await Requests.GetAsync(anonymousOne, SseConnection.StreamPath, dave);
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.Status);
        Assert.Equal(1, fallbacks.GetMeasurementSnapshot().Sum(m => m.Value));
        Assert.Equal(HttpStatusCode.OK, (await Requests.GetAsync(anonymousOne, "/alive")).Status);
        // Logged once per outage, not per request.
        Assert.Single(one.Logs.Entries, e => e.Contains("[1401]", StringComparison.Ordinal));

        await redis.RestartAsync();

        // Tickets work again.
        await EventuallyAsync(
            async () => (await Requests.GetAsync(anonymousTwo, Requests.TicketQuery(await Requests.TicketAsync(anonymousTwo, TestTokens.DefaultAccessToken)))).Status == HttpStatusCode.OK,
            s_reconnectWait,
            "a ticket opens a stream once Redis is back");
        // The stream admitted during the outage is written to Redis by the next renewal: replica two counts it.
        await EventuallyAsync(
            async () => (await Requests.GetAsync(anonymousTwo, SseConnection.StreamPath, dave)).Status == HttpStatusCode.TooManyRequests,
            s_reconnectWait,
            "replica two sees dave's stream on replica one after Redis came back");
        await EventuallyAsync(async () => await HealthAsync(anonymousOne) == "Healthy", s_reconnectWait, "health is Healthy again");
        Assert.Contains(one.Logs.Everything, e => e.Contains("[1402]", StringComparison.Ordinal));
        await admitted.DisposeAsync();
    }

    [Fact]
    public async Task A_replica_starts_with_Redis_down_serves_streams_and_uses_Redis_once_it_is_up()
    {
        await using var redis = await RedisServer.StartAsync();
        await redis.StopAsync();

        await using var app = await StartReplicaAsync(redis);
        using var client = app.CreateHttp1Client(null);
        Assert.Equal("Degraded", await HealthAsync(client));
        Assert.Equal(HttpStatusCode.OK, (await Requests.GetAsync(client, SseConnection.StreamPath, TestTokens.DefaultAccessToken)).Status);
        var ticket = await Requests.TicketAsync(client, TestTokens.DefaultAccessToken);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await Requests.GetAsync(client, Requests.TicketQuery(ticket))).Status);

        await redis.RestartAsync();
        await EventuallyAsync(async () => await HealthAsync(client) == "Healthy", s_reconnectWait, "health is Healthy once Redis is up");
        // The ticket refused with 503 was not spent.
        Assert.Equal(HttpStatusCode.OK, (await Requests.GetAsync(client, Requests.TicketQuery(ticket))).Status);
    }

    [Fact]
    public async Task Lease_renewal_keeps_a_long_stream_counted_past_its_ttl_and_one_pass_renews_every_lease()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var app = await StartReplicaAsync(redis, new Dictionary<string, string?> { ["Streaming:Limits:LeaseTtl"] = "00:00:02" });
        var streams = new List<SseConnection>();
        for (var i = 0; i < 6; i++)
        {
            streams.Add(await OpenAsync(app.CreateHttp1Client(TestTokens.Access($"user-{i % 3}"))));
        }

        var database = app.Services.GetRequiredService<IConnectionMultiplexer>().GetDatabase();
        for (var user = 0; user < 3; user++)
        {
            await WaitPastFirstExpiryAsync(database, $"{RedisUserStreamLimiter.KeyPrefix}user-{user}");
        }

        for (var user = 0; user < 3; user++)
        {
            Assert.Equal(2, await database.SortedSetLengthAsync($"{RedisUserStreamLimiter.KeyPrefix}user-{user}"));
            Assert.True(await database.KeyTimeToLiveAsync($"{RedisUserStreamLimiter.KeyPrefix}user-{user}") <= TimeSpan.FromSeconds(2));
        }

        foreach (var stream in streams)
        {
            await stream.DisposeAsync();
        }

        await EventuallyAsync(
            async () => await database.SortedSetLengthAsync($"{RedisUserStreamLimiter.KeyPrefix}user-0") == 0,
            s_wait,
            "closed streams release their leases");
        Assert.Equal(0, app.Services.GetRequiredService<RedisUserStreamLimiter>().LocalLeaseCount);
    }

    [Fact]
    public async Task Redis_commands_are_traced_through_the_Aspire_client_as_children_of_the_request()
    {
        var redisSpans = new System.Collections.Concurrent.ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = static source => source.Name == "OpenTelemetry.Instrumentation.StackExchangeRedis",
            Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = redisSpans.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);
        await using var redis = await RedisServer.StartAsync();
        await using var app = await StartReplicaAsync(redis);
        using var client = app.CreateHttp1Client(null);

        var ticket = await Requests.TicketAsync(client, TestTokens.DefaultAccessToken);
        Assert.Equal(HttpStatusCode.OK, (await Requests.GetAsync(client, Requests.TicketQuery(ticket))).Status);

        // The instrumentation turns profiled commands into spans on its own flush schedule (seconds).
        await Eventually.TrueAsync(
            () => redisSpans.Any(span => span.DisplayName == "SET" && span.ParentSpanId != default),
            TimeSpan.FromSeconds(30),
            "the ticket's SET is a span under the stream request");
        Assert.DoesNotContain(redisSpans, span => span.TagObjects.Any(tag => tag.Value?.ToString()?.Contains(ticket, StringComparison.Ordinal) == true));
    }

    [Fact]
    public async Task Without_a_backplane_setting_nothing_Redis_is_registered()
    {
        await using var app = await TestApp.StartAsync();

        Assert.Null(app.Services.GetService<IConnectionMultiplexer>());
        Assert.IsType<InMemoryTicketReplayCache>(app.Services.GetRequiredService<ITicketReplayCache>());
        Assert.IsType<InMemoryUserStreamLimiter>(app.Services.GetRequiredService<IUserStreamLimiter>());
        Assert.Null(app.Services.GetService<RedisUserStreamLimiter>());
        var checks = app.Services.GetRequiredService<IOptions<HealthCheckServiceOptions>>().Value.Registrations.Select(r => r.Name);
        Assert.DoesNotContain(RedisBackplaneHealthCheck.Name, checks);
    }

    [Theory]
    [InlineData("Redis", null, "ConnectionStrings:redis")]
    [InlineData("Redis", " ", "ConnectionStrings:redis")]
    [InlineData("Postgres", "127.0.0.1:1", "Streaming:Backplane")]
    public async Task A_backplane_that_cannot_work_stops_start_up_with_a_message_naming_the_key(string backplane, string? connectionString, string named)
    {
        var exception = await Assert.ThrowsAnyAsync<Exception>(() => TestApp.StartAsync(new Dictionary<string, string?>
        {
            ["Streaming:Backplane"] = backplane,
            ["ConnectionStrings:redis"] = connectionString,
        }));

        var messages = string.Join(" | ", Chain(exception).Select(e => e.Message));
        Assert.Contains(named, messages, StringComparison.Ordinal);
    }

    private static Task<TestApp> StartReplicaAsync(RedisServer redis, IReadOnlyDictionary<string, string?>? settings = null)
    {
        var merged = new Dictionary<string, string?>
        {
            ["Streaming:Backplane"] = "Redis",
            ["ConnectionStrings:redis"] = redis.ConnectionString,
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            merged[key] = value;
        }

        return TestApp.StartAsync(merged);
    }

    /// <summary>
    /// Waits, by Redis's own clock, until every lease now in <paramref name="key"/> would have expired had nobody
    /// renewed it; then checks that they were renewed.
    /// </summary>
    private static async Task WaitPastFirstExpiryAsync(IDatabase database, string key)
    {
        var leases = await database.SortedSetRangeByRankWithScoresAsync(key);
        Assert.NotEmpty(leases);
        var latest = leases.Max(static lease => lease.Score);
        await EventuallyAsync(
            async () => await RedisNowAsync(database) > latest + 100,
            s_wait,
            $"Redis's clock passes the first expiry of the leases in {key}");
        var renewed = await database.SortedSetRangeByRankWithScoresAsync(key);
        Assert.Equal(leases.Length, renewed.Length);
        Assert.All(renewed, lease => Assert.True(lease.Score > latest, "renewed past its first expiry"));
    }

    private static async Task<double> RedisNowAsync(IDatabase database)
    {
        var time = (RedisResult[])(await database.ExecuteAsync("TIME"))!;
        return ((long)time[0] * 1000) + ((long)time[1] / 1000);
    }

    private static async Task<SseConnection> OpenAsync(HttpClient client)
    {
        var stream = await SseConnection.OpenAsync(client);
        await stream.ReadUntilAsync(ControlEvents.ReadyType, s_wait);
        return stream;
    }

    private static async Task<string> HealthAsync(HttpClient client)
    {
        var answer = await Requests.GetAsync(client, "/health");
        // Degraded is still 200: the replica stays in rotation.
        Assert.Equal(HttpStatusCode.OK, answer.Status);
        return answer.Body;
    }

    private static async Task EventuallyAsync(Func<Task<bool>> condition, TimeSpan timeout, string because)
    {
        var stopwatch = Stopwatch.StartNew();
        while (!await condition())
        {
            if (stopwatch.Elapsed > timeout)
            {
                Assert.Fail($"Not true within {timeout.TotalSeconds:F1} s: {because}");
            }

            await Task.Delay(100);
        }
    }

    private static IEnumerable<Exception> Chain(Exception exception)
    {
        for (Exception? current = exception; current is not null; current = current.InnerException)
        {
            yield return current;
        }
    }
}
