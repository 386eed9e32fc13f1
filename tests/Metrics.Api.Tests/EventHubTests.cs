using System.Text;
using Metrics.Api.Streaming;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Options;

namespace Metrics.Api.Tests;

/// <summary>The fan-out hub on its own, no HTTP.</summary>
public sealed class EventHubTests : IDisposable
{
    private readonly ServiceProvider _services;

    public EventHubTests()
    {
        var services = new ServiceCollection()
            .AddLogging()
            .AddMetrics()
            .AddSingleton(TimeProvider.System)
            .AddSingleton<StreamMetrics>()
            .AddSingleton<StreamSubscribers>()
            .AddSingleton<InMemoryEventHub>();
        services.AddOptions<StreamingOptions>().Configure(o =>
        {
            o.QueueCapacity = 8;
            o.ReplayCapacity = 10_000;
        });
        _services = services.BuildServiceProvider();
    }

    private InMemoryEventHub Hub => _services.GetRequiredService<InMemoryEventHub>();

    private StreamSubscribers Subscribers => _services.GetRequiredService<StreamSubscribers>();

    [Fact]
    public async Task Every_subscriber_gets_the_same_serialized_bytes()
    {
        using var first = await Hub.SubscribeAsync(new SubscriptionRequest("a", null));
        using var second = await Hub.SubscribeAsync(new SubscriptionRequest("b", null));

        await Hub.PublishAsync("metrics", "{\"x\":1}"u8.ToArray());

        Assert.True(first.Live.TryRead(out var a));
        Assert.True(second.Live.TryRead(out var b));
        Assert.Same(a, b);
        Assert.Same(a.Data, a.Item.Data);
        Assert.Equal("{\"x\":1}", Encoding.UTF8.GetString(a.Data));
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
    public async Task A_subscriber_that_stops_reading_is_ended_as_slow_consumer_and_the_others_get_everything()
    {
        using var dropped = new MetricCollector<long>(_services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), StreamMetrics.MeterName, StreamMetrics.EventsDroppedName);
        var aborted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var stalled = await Hub.SubscribeAsync(new SubscriptionRequest("slow", null) { AbortTransport = aborted.SetResult });
        using var healthy = await Hub.SubscribeAsync(new SubscriptionRequest("fast", null));
        var received = new List<long>();

        for (var i = 0; i < 20; i++)
        {
            await Hub.PublishAsync("metrics", "{}"u8.ToArray());
            while (healthy.Live.TryRead(out var e))
            {
                received.Add(e.Id!.Value);
            }
        }

        Assert.Equal(StreamEndReason.SlowConsumer, stalled.EndReason);
        await aborted.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Null(healthy.EndReason);
        Assert.Equal(20, received.Count);
        stalled.Dispose();
        // The one event that did not fit plus the eight queued and never written.
        Assert.Equal(9, dropped.GetMeasurementSnapshot().EvaluateAsCounter());
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

        var checkedSubscriptions = 0;
        while (!publisher.IsCompleted || checkedSubscriptions == 0)
        {
            // Resume from wherever the stream is now: replay + live must be exactly contiguous.
            var resumeAfter = Hub.LatestId;
            using var subscription = await Hub.SubscribeAsync(new SubscriptionRequest("r", resumeAfter));
            var expected = resumeAfter + 1;
            foreach (var e in subscription.Replay)
            {
                Assert.Equal(expected++, e.Id);
            }

            while (subscription.Live.TryRead(out var e) && !subscription.IsEnded)
            {
                Assert.Equal(expected++, e.Id);
            }

            Assert.Null(subscription.Gap);
            checkedSubscriptions++;
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
        Assert.False(await late.Live.WaitToReadAsync());
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

    public void Dispose() => _services.Dispose();
}
