using Metrics.Api.Streaming;
using Metrics.Api.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Metrics.Api.Tests;

/// <summary>A fan-out wakes its streams a batch at a time (Streaming:FanOutBatchSize), no HTTP.</summary>
public sealed class FanOutBatchTests
{
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task The_next_batch_is_woken_only_when_every_writer_of_the_previous_one_has_run()
    {
        using var services = Services(batchSize: 2);
        var hub = services.GetRequiredService<InMemoryEventHub>();
        using var gate = new ManualResetEventSlim();
        var woken = 0;
        var readers = new List<Task>();
        var subscriptions = new List<StreamSubscription>();
        for (var i = 0; i < 5; i++)
        {
            var subscription = await hub.SubscribeAsync(new SubscriptionRequest($"user{i}", null));
            subscriptions.Add(subscription);
            readers.Add(ReadOnceAsync(subscription, () =>
            {
                Interlocked.Increment(ref woken);
                // A writer still running (blocked here) holds its batch open.
                gate.Wait(s_wait);
            }));
        }

        await hub.PublishAsync("metrics", "{}"u8.ToArray());

        await Eventually.TrueAsync(() => Volatile.Read(ref woken) == 2, s_wait, "the first batch is woken");
        // Long enough for the thread pool to run (or add threads for) anything else that had been queued.
        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.Equal(2, Volatile.Read(ref woken));

        gate.Set();
        await Task.WhenAll(readers).WaitAsync(s_wait);
        Assert.Equal(5, woken);
        subscriptions.ForEach(s => s.Dispose());
    }

    [Fact]
    public async Task A_writer_waiting_on_its_client_does_not_hold_up_the_next_batch()
    {
        using var services = Services(batchSize: 1);
        var hub = services.GetRequiredService<InMemoryEventHub>();
        // What a flush to a client that reads nothing looks like to the writer: a wait that does not end.
        var clientNeverReads = new TaskCompletionSource();
        var woken = 0;
        var subscriptions = new List<StreamSubscription>();
        for (var i = 0; i < 5; i++)
        {
            var subscription = await hub.SubscribeAsync(new SubscriptionRequest($"user{i}", null));
            subscriptions.Add(subscription);
            _ = WaitOnClientAsync(subscription);
        }

        await hub.PublishAsync("metrics", "{}"u8.ToArray());

        await Eventually.TrueAsync(() => Volatile.Read(ref woken) == 5, s_wait, "every stream is woken");
        subscriptions.ForEach(s => s.Dispose());

        async Task WaitOnClientAsync(StreamSubscription subscription)
        {
            Assert.True(await subscription.WaitToReadAsync().ConfigureAwait(false));
            Interlocked.Increment(ref woken);
            await clientNeverReads.Task.ConfigureAwait(false);
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(256)]
    public async Task Every_stream_gets_every_event_in_order_whatever_the_batch_size(int batchSize)
    {
        const int Streams = 40;
        const int Events = 200;
        using var services = Services(batchSize);
        var hub = services.GetRequiredService<InMemoryEventHub>();
        var subscriptions = new List<StreamSubscription>();
        var received = new List<Task<List<long>>>();
        for (var i = 0; i < Streams; i++)
        {
            var subscription = await hub.SubscribeAsync(new SubscriptionRequest($"user{i % 7}", null));
            subscriptions.Add(subscription);
            received.Add(ReadIdsAsync(subscription, Events));
        }

        var published = new List<long>();
        for (var i = 0; i < Events; i++)
        {
            published.Add(await hub.PublishAsync("metrics", "{}"u8.ToArray()));
            if (i % 10 == 0)
            {
                await Task.Yield();
            }
        }

        foreach (var ids in await Task.WhenAll(received).WaitAsync(s_wait))
        {
            Assert.Equal(published, ids);
        }

        subscriptions.ForEach(s => s.Dispose());
    }

    private static ServiceProvider Services(int batchSize)
    {
        var services = new ServiceCollection()
            .AddLogging()
            .AddMetrics()
            .AddSingleton(TimeProvider.System)
            .AddSingleton<StreamMetrics>()
            .AddSingleton<StreamSubscribers>()
            .AddSingleton<InMemoryEventHub>();
        // A queue deep enough that no reader in these tests ever lags into skipping.
        services.AddOptions<StreamingOptions>().Configure(o =>
        {
            o.FanOutBatchSize = batchSize;
            o.QueueCapacity = 10_000;
        });
        return services.BuildServiceProvider();
    }

    private static async Task ReadOnceAsync(StreamSubscription subscription, Action whenWoken)
    {
        // Without the test's synchronization context, the writer runs inline in the wake, as under ASP.NET Core.
        Assert.True(await subscription.WaitToReadAsync().ConfigureAwait(false));
        whenWoken();
    }

    private static async Task<List<long>> ReadIdsAsync(StreamSubscription subscription, int count)
    {
        var ids = new List<long>();
        var batch = new List<StreamEvent>();
        while (ids.Count < count && await subscription.WaitToReadAsync().ConfigureAwait(false))
        {
            batch.Clear();
            Assert.Equal(0, subscription.TakeQueued(batch));
            ids.AddRange(batch.Select(e => e.Id!.Value));
        }

        return ids;
    }
}
