using System.Globalization;
using System.Text.Json;
using Metrics.Api.Streaming;
using Metrics.Api.Tests.Infrastructure;

namespace Metrics.Api.Tests;

public class ResumeTests
{
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task Forced_disconnects_mid_stream_lose_and_duplicate_nothing()
    {
        await using var app = await TestApp.StartAsync(new Dictionary<string, string?> { ["Streaming:ReplayCapacity"] = "10000" });
        using var http1 = app.CreateHttp1Client();
        using var h2c = app.CreateH2cClient();
        const int Events = 400;
        var firstId = ((InMemoryEventHub)app.Hub).LatestId + 1;
        var lastId = firstId + Events - 1;
        var publisher = Task.Run(async () =>
        {
            for (var i = 0; i < Events; i++)
            {
                await app.PublishAsync("metrics", $"{{\"n\":{i}}}");
                await Task.Delay(2);
            }
        });

        var received = new List<long>();
        var random = new Random(42);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        for (var session = 0; received.Count == 0 || received[^1] != lastId; session++)
        {
            Assert.True(DateTime.UtcNow < deadline, $"resumed {session} times, got {received.Count} events");
            var resumeFrom = received.Count > 0 ? received[^1].ToString(CultureInfo.InvariantCulture) : null;
            // Alternate transports and the two ways to pass the resume point.
            var client = session % 2 == 0 ? http1 : h2c;
            await using var stream = session % 3 == 0 && resumeFrom is not null
                ? await SseConnection.OpenAsync(client, $"{SseConnection.StreamPath}?lastEventId={resumeFrom}")
                : await SseConnection.OpenAsync(client, lastEventId: resumeFrom);

            var toRead = random.Next(1, 40);
            while (toRead > 0)
            {
                var item = await stream.ReadAsync(s_wait) ?? throw new InvalidOperationException("Stream ended.");
                Assert.NotEqual(ControlEvents.GapType, item.EventType);
                if (item.EventType == "metrics")
                {
                    received.Add(long.Parse(item.EventId!, CultureInfo.InvariantCulture));
                    toRead--;
                    if (received[^1] == lastId)
                    {
                        break;
                    }
                }
            }
            // Disposing here resets the HTTP/2 stream or closes the HTTP/1.1 connection mid-stream.
        }

        await publisher;
        // Ids are consecutive, so "nothing lost, nothing repeated" means exactly first..last.
        Assert.InRange(received[0], firstId, lastId);
        Assert.Equal(Enumerable.Range(0, (int)(lastId - received[0] + 1)).Select(i => received[0] + i), received);
        Assert.True(received.Count > 100, $"only {received.Count} events were checked");
    }

    [Fact]
    public async Task An_id_older_than_the_replay_buffer_gets_an_explicit_gap_then_what_is_left_then_live_events()
    {
        await using var app = await TestApp.StartAsync(new Dictionary<string, string?> { ["Streaming:ReplayCapacity"] = "5" });
        var ids = new List<long>();
        for (var i = 0; i < 20; i++)
        {
            ids.Add(await app.PublishAsync());
        }

        using var client = app.CreateH2cClient();
        await using var stream = await SseConnection.OpenAsync(client, lastEventId: ids[0].ToString(CultureInfo.InvariantCulture));

        Assert.Equal(ControlEvents.ReadyType, (await stream.ReadAsync(s_wait))?.EventType);
        var gap = await stream.ReadAsync(s_wait);
        Assert.Equal(ControlEvents.GapType, gap?.EventType);
        Assert.Null(gap?.EventId);
        using (var data = JsonDocument.Parse(gap!.Value.Data))
        {
            Assert.Equal(ids[0], data.RootElement.GetProperty("lastEventId").GetInt64());
            Assert.Equal(ids[15], data.RootElement.GetProperty("firstAvailableId").GetInt64());
            Assert.Equal(ids[19], data.RootElement.GetProperty("latestId").GetInt64());
        }

        for (var i = 15; i < 20; i++)
        {
            await stream.ReadUntilAsync("metrics", s_wait);
        }

        var live = await app.PublishAsync();
        await stream.ReadUntilAsync("metrics", s_wait);
        Assert.Equal([.. ids[15..], live], stream.Ids);
    }

    [Fact]
    public async Task An_id_this_stream_never_issued_gets_a_gap_not_a_silent_replay()
    {
        await using var app = await TestApp.StartAsync();
        var latest = await app.PublishAsync();

        using var client = app.CreateHttp1Client();
        await using var stream = await SseConnection.OpenAsync(client, lastEventId: (latest + 1000).ToString(CultureInfo.InvariantCulture));

        await stream.ReadUntilAsync(ControlEvents.ReadyType, s_wait);
        var gap = await stream.ReadAsync(s_wait);
        Assert.Equal(ControlEvents.GapType, gap?.EventType);
    }

    [Fact]
    public async Task Resuming_at_the_latest_id_gets_only_new_events_and_the_header_wins_over_the_query()
    {
        await using var app = await TestApp.StartAsync();
        var old = await app.PublishAsync();
        var latest = await app.PublishAsync();

        using var client = app.CreateHttp1Client();
        await using var stream = await SseConnection.OpenAsync(
            client,
            $"{SseConnection.StreamPath}?lastEventId={old}",
            lastEventId: latest.ToString(CultureInfo.InvariantCulture));
        await stream.ReadUntilAsync(ControlEvents.ReadyType, s_wait);
        var next = await app.PublishAsync();

        var item = await stream.ReadAsync(s_wait);
        Assert.Equal("metrics", item?.EventType);
        Assert.Equal([next], stream.Ids);
    }
}
