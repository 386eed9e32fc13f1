using System.Globalization;
using System.Net.ServerSentEvents;
using Metrics.Api.Streaming;

namespace Metrics.Api.Tests.Infrastructure;

/// <summary>Checks on an open stream for tests that move a fake clock (which also fires the heartbeat timer).</summary>
internal static class StreamAssert
{
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(15);

    /// <summary>A published event still arrives and the stream is still held: nothing ended it before.</summary>
    public static async Task StillStreamingAsync(TestApp app, SseConnection stream)
    {
        var id = await app.PublishAsync("metrics", "{\"still\":true}");
        var next = await ReadPastPingsAsync(stream);
        Assert.Equal("metrics", next?.EventType);
        Assert.Equal(id.ToString(CultureInfo.InvariantCulture), next?.EventId);
        Assert.Equal(1, app.Subscribers.Count);
    }

    /// <summary>The next event that is not a heartbeat, or null when the stream ended cleanly.</summary>
    public static async Task<SseItem<string>?> ReadPastPingsAsync(SseConnection stream)
    {
        while (true)
        {
            var item = await stream.ReadAsync(s_wait);
            if (item?.EventType != ControlEvents.PingType)
            {
                return item;
            }
        }
    }
}
