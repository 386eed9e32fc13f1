using System.Text;
using Metrics.Api.Streaming;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Metrics.Api.Tests;

/// <summary>The fan-out hub on its own, no HTTP.</summary>
public sealed class EventHubTests : IDisposable
{
    private readonly ServiceProvider _services;
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);

    public EventHubTests()
    {
        var services = new ServiceCollection()
            .AddLogging()
            .AddMetrics()
            .AddSingleton<TimeProvider>(_time)
            .AddSingleton<StreamMetrics>()
            .AddSingleton<StreamSubscribers>()
            .AddSingleton<InMemoryEventHub>();
        services.AddOptions<StreamingOptions>().Configure(o =>
        {
            o.QueueCapacity = 8;
            o.ReplayCapacity = 10_000;
            o.StalledStreamTimeout = TimeSpan.FromSeconds(30);
        });
        _services = services.BuildServiceProvider();
    }

    private InMemoryEventHub Hub => _services.GetRequiredService<InMemoryEventHub>();

    private StreamSubscribers Subscribers => _services.GetRequiredService<StreamSubscribers>();

    [Fact]
    public async Task Every_subscriber_gets_the_same_event_framed_once()
    {
        using var first = await Hub.SubscribeAsync(new SubscriptionRequest("a", null));
        using var second = await Hub.SubscribeAsync(new SubscriptionRequest("b", null));

        var id = await Hub.PublishAsync("metrics", "{\"x\":1}"u8.ToArray());

        var a = Assert.Single(Queued(first));
        var b = Assert.Single(Queued(second));
        Assert.Same(a, b);
        Assert.Equal("{\"x\":1}", Encoding.UTF8.GetString(a.Data));
        var frame = Encoding.UTF8.GetString(a.Frame);
        Assert.Contains("event: metrics\n", frame, StringComparison.Ordinal);
        Assert.Contains($"id: {id}\n", frame, StringComparison.Ordinal);
        Assert.Contains("data: {\"x\":1}\n", frame, StringComparison.Ordinal);
        Assert.EndsWith("\n\n", frame, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ids_increase_by_one_from_a_start_up_seed_above_any_earlier_process()
    {
        var before = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1000;

        var first = await Hub.PublishAsync("metrics", "{}"u8.ToArray());
        var second = await Hub.PublishAsync("metrics", "{}"u8.ToArray());

        Assert.True(first > before - 60_000_000, "ids are seeded from the start-up time");
        Assert.Equal(first + 1, second);
        Assert.True(second < 1L << 53, "ids stay exact as JavaScript numbers");
    }

    [Theory]
    [InlineData("")]
    [InlineData("metrics\nid: 1")]
    [InlineData("metrics\r")]
    [InlineData("with space")]
    public async Task Event_types_outside_the_token_alphabet_are_refused(string eventType) =>
        await Assert.ThrowsAnyAsync<ArgumentException>(async () => await Hub.PublishAsync(eventType, "{}"u8.ToArray()));

    [Fact]
    public async Task A_lagging_subscriber_keeps_the_newest_event_of_each_source_and_learns_how_many_it_skipped()
    {
        using var skippedMetric = new MetricCollector<long>(_services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), StreamMetrics.MeterName, StreamMetrics.EventsSkippedName);
        using var lagging = await Hub.SubscribeAsync(new SubscriptionRequest("slow", null));
        using var healthy = await Hub.SubscribeAsync(new SubscriptionRequest("fast", null));
        var received = new List<long>();
        var published = new List<(string Type, long Id)>();

        for (var i = 0; i < 40; i++)
        {
            var type = i % 4 == 0 ? "status" : "metrics";
            published.Add((type, await Hub.PublishAsync(type, "{}"u8.ToArray())));
            received.AddRange(Queued(healthy).Select(e => e.Id!.Value));
        }

        var batch = new List<StreamEvent>();
        var skipped = lagging.TakeQueued(batch);

        Assert.Null(lagging.EndReason);
        Assert.Null(healthy.EndReason);
        Assert.Equal(published.Select(p => p.Id), received);
        // Nothing lost without saying so, the queue stayed within its capacity, ids stay in order.
        Assert.Equal(40, skipped + batch.Count);
        Assert.InRange(batch.Count, 2, 8);
        Assert.Equal(batch.OrderBy(e => e.Id).Select(e => e.Id), batch.Select(e => e.Id));
        Assert.Equal(published[^1].Id, batch[^1].Id);
        // The newest of each source survived.
        Assert.Contains(batch, e => e.Id == published.Last(p => p.Type == "status").Id);
        Assert.Contains(batch, e => e.Id == published.Last(p => p.Type == "metrics").Id);
        Assert.Equal(skipped, skippedMetric.GetMeasurementSnapshot().EvaluateAsCounter());
        Assert.Equal(0, lagging.TakeQueued(batch));
    }

    [Fact]
    public async Task A_subscriber_whose_events_wait_past_the_stall_timeout_is_cut_as_slow_consumer()
    {
        using var dropped = new MetricCollector<long>(_services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), StreamMetrics.MeterName, StreamMetrics.EventsDroppedName);
        var aborted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var stalled = await Hub.SubscribeAsync(new SubscriptionRequest("stalled", null) { AbortTransport = aborted.SetResult });
        using var reading = await Hub.SubscribeAsync(new SubscriptionRequest("reading", null));

        for (var second = 0; second < 29; second++)
        {
            await Hub.PublishAsync("metrics", "{}"u8.ToArray());
            Queued(reading);
            _time.Advance(TimeSpan.FromSeconds(1));
        }

        Assert.Null(stalled.EndReason);
        _time.Advance(TimeSpan.FromSeconds(2));
        await Hub.PublishAsync("metrics", "{}"u8.ToArray());

        Assert.Equal(StreamEndReason.SlowConsumer, stalled.EndReason);
        await aborted.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Null(reading.EndReason);
        Assert.False(await stalled.WaitToReadAsync());
        stalled.Dispose();
        // What was still queued for it when it was cut was never written.
        Assert.InRange(dropped.GetMeasurementSnapshot().EvaluateAsCounter(), 1, 8);
    }

    [Fact]
    public async Task Subscribing_while_publishing_never_loses_or_repeats_an_event()
    {
        const int Publishes = 3_000;
        var firstId = Hub.LatestId + 1; // before the publisher starts
        var lastId = firstId + Publishes - 1;
        var publisher = Task.Run(async () =>
        {
            for (var i = 0; i < Publishes; i++)
            {
                await Hub.PublishAsync("metrics", "{}"u8.ToArray());
                if (i % 20 == 0)
                {
                    await Task.Delay(1); // keep publishing while the test subscribes over and over
                }
            }
        });

        var contiguousChecks = 0;
        while (!publisher.IsCompleted || contiguousChecks == 0)
        {
            // Resume from wherever the stream is now: replay + live must be exactly contiguous.
            var resumeAfter = Hub.LatestId;
            using var subscription = await Hub.SubscribeAsync(new SubscriptionRequest("r", resumeAfter));
            var ids = subscription.Replay.Select(e => e.Id!.Value).ToList();
            var live = new List<StreamEvent>();
            var skipped = subscription.TakeQueued(live);
            // Live events registered before the replay was read repeat the replay's end: the response skips them.
            ids.AddRange(live.Where(e => e.Id > subscription.ReplayedThrough).Select(e => e.Id!.Value));

            Assert.Null(subscription.Gap);
            Assert.Equal(ids.Order().Distinct(), ids);
            if (skipped == 0)
            {
                // Nothing was superseded (the queue of 8 did not fill while this loop ran): no id may be missing.
                Assert.Equal(Enumerable.Range(0, ids.Count).Select(i => resumeAfter + 1 + i), ids);
                contiguousChecks++;
            }
        }

        await publisher;
        Assert.Equal(lastId, Hub.LatestId);
    }

    [Fact]
    public async Task After_shutdown_new_subscriptions_end_at_once_with_reason_shutdown()
    {
        using var open = await Hub.SubscribeAsync(new SubscriptionRequest("a", null));

        Assert.Equal(1, Subscribers.EndAll(StreamEndReason.Shutdown));
        using var late = await Hub.SubscribeAsync(new SubscriptionRequest("b", null));

        Assert.Equal(StreamEndReason.Shutdown, open.EndReason);
        Assert.Equal(StreamEndReason.Shutdown, late.EndReason);
        Assert.False(await late.WaitToReadAsync());
    }

    [Fact]
    public async Task Distinct_users_count_anonymous_viewers_once()
    {
        using var a1 = await Hub.SubscribeAsync(new SubscriptionRequest("alice", null));
        using var a2 = await Hub.SubscribeAsync(new SubscriptionRequest("alice", null));
        using var anon1 = await Hub.SubscribeAsync(new SubscriptionRequest(StreamUser.Anonymous, null));
        using var anon2 = await Hub.SubscribeAsync(new SubscriptionRequest(StreamUser.Anonymous, null));

        Assert.Equal(4, Subscribers.Count);
        Assert.Equal(2, Subscribers.DistinctUsers);
        a1.Dispose();
        Assert.Equal(2, Subscribers.DistinctUsers);
        a2.Dispose();
        Assert.Equal(1, Subscribers.DistinctUsers);
    }

    [Fact]
    public async Task Deadlines_end_streams_on_one_timer_in_due_order_and_forget_streams_that_left()
    {
        var deadlines = Subscribers.Deadlines;
        using var soon = await Hub.SubscribeAsync(new SubscriptionRequest("a", null));
        using var later = await Hub.SubscribeAsync(new SubscriptionRequest("b", null));
        var gone = await Hub.SubscribeAsync(new SubscriptionRequest("c", null));
        soon.EndAfter(TimeSpan.FromMinutes(1), StreamEndReason.TokenExpired);
        later.EndAfter(TimeSpan.FromMinutes(30), StreamEndReason.MaxAge);
        later.EndAfter(TimeSpan.FromMinutes(10), StreamEndReason.MaxAge); // replaces the first
        gone.EndAfter(TimeSpan.FromMinutes(1), StreamEndReason.MaxAge);
        gone.Dispose();
        Assert.Equal(2, deadlines.Count);

        _time.Advance(TimeSpan.FromSeconds(59));
        Assert.Null(soon.EndReason);
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(StreamEndReason.TokenExpired, soon.EndReason);
        Assert.Null(later.EndReason);
        Assert.Equal(StreamEndReason.ClientDisconnect, gone.EndReason);

        _time.Advance(TimeSpan.FromMinutes(9));
        Assert.Equal(StreamEndReason.MaxAge, later.EndReason);
        Assert.Equal(0, deadlines.Count);
    }

    private static List<StreamEvent> Queued(StreamSubscription subscription)
    {
        var batch = new List<StreamEvent>();
        subscription.TakeQueued(batch);
        return batch;
    }

    public void Dispose() => _services.Dispose();
}
