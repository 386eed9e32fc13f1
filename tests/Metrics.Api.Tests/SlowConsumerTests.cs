using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Metrics.Api.Streaming;
using Metrics.Api.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Xunit.Abstractions;

namespace Metrics.Api.Tests;

public class SlowConsumerTests(ITestOutputHelper output)
{
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_client_that_reads_slowly_skips_to_the_newest_samples_with_a_gap_and_stays_connected()
    {
        await using var app = await TestApp.StartAsync(new Dictionary<string, string?> { ["Streaming:QueueCapacity"] = "4" });
        var meterFactory = app.Services.GetRequiredService<IMeterFactory>();
        using var cleanups = new MetricCollector<long>(meterFactory, StreamMetrics.MeterName, StreamMetrics.CleanupsName);
        using var http1 = app.CreateHttp1Client();
        await using var slow = await SseConnection.OpenAsync(http1);
        await slow.ReadUntilAsync(ControlEvents.ReadyType, s_wait);

        // 300 events of 64 KiB while the client reads nothing: far more than the socket buffers hold.
        var payload = $"{{\"pad\":\"{new string('x', 64 * 1024)}\"}}";
        var first = await app.PublishAsync("metrics", payload);
        var last = first;
        for (var i = 1; i < 300; i++)
        {
            last = await app.PublishAsync("metrics", payload);
        }

        // Then it reads: the newest events arrive, after gaps that count what was skipped.
        var metricIds = new List<long>();
        var gaps = new List<JsonElement>();
        while (metricIds.Count == 0 || metricIds[^1] != last)
        {
            var item = await slow.ReadAsync(s_wait) ?? throw new InvalidOperationException("the stream ended");
            switch (item.EventType)
            {
                case "metrics":
                    metricIds.Add(long.Parse(item.EventId!, System.Globalization.CultureInfo.InvariantCulture));
                    break;
                case ControlEvents.GapType:
                    gaps.Add(JsonDocument.Parse(item.Data).RootElement.Clone());
                    break;
            }
        }

        output.WriteLine($"{metricIds.Count} of 300 events written, {gaps.Count} gaps");
        Assert.NotEmpty(gaps);
        Assert.All(gaps, g => Assert.Equal("lagging", g.GetProperty("reason").GetString()));
        Assert.True(metricIds.Count < 300, "some events were skipped");
        Assert.Equal(metricIds.Order(), metricIds);
        Assert.Equal(metricIds.Distinct(), metricIds);
        Assert.Equal(300, metricIds.Count + gaps.Sum(g => g.GetProperty("skipped").GetInt64()));
        Assert.Equal(1, app.Subscribers.Count);
        Assert.Empty(cleanups.GetMeasurementSnapshot());
    }

    [Fact]
    public async Task A_client_that_stops_reading_is_cut_within_the_bound_while_the_others_keep_flowing()
    {
        // Five seconds of backlog at 50 events/s: a healthy reader on a busy machine never skips an event.
        const int QueueCapacity = 256;
        await using var app = await TestApp.StartAsync(new Dictionary<string, string?>
        {
            ["Streaming:QueueCapacity"] = QueueCapacity.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Streaming:StalledStreamTimeout"] = "00:00:02",
        });
        var meterFactory = app.Services.GetRequiredService<IMeterFactory>();
        using var cleanups = new MetricCollector<long>(meterFactory, StreamMetrics.MeterName, StreamMetrics.CleanupsName);
        using var dropped = new MetricCollector<long>(meterFactory, StreamMetrics.MeterName, StreamMetrics.EventsDroppedName);

        // The stalled client: a raw socket with a tiny receive window that reads the headers and
        // the ready event, then never reads again.
        using var stalled = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096 };
        await stalled.ConnectAsync(app.Http1Address.Host, app.Http1Address.Port);
        await stalled.SendAsync(Encoding.ASCII.GetBytes($"GET {SseConnection.StreamPath} HTTP/1.1\r\nHost: {app.Http1Address.Authority}\r\nAuthorization: Bearer {TestTokens.DefaultAccessToken}\r\n\r\n"));
        await ReadUntilAsync(stalled, "event: ready");

        using var http1 = app.CreateHttp1Client();
        using var h2c = app.CreateH2cClient();
        await using var healthy1 = await SseConnection.OpenAsync(http1);
        await using var healthy2 = await SseConnection.OpenAsync(h2c);
        using var stopReading = new CancellationTokenSource();
        var readers = new[] { healthy1, healthy2 }.Select(s => ReadAllAsync(s, stopReading.Token)).ToArray();
        await Eventually.TrueAsync(() => app.Subscribers.Count == 3, s_wait, "three streams are open");

        // 64 KiB events, 50 a second: the stalled socket's kernel buffers fill, then its queue.
        var payload = $"{{\"pad\":\"{new string('x', 64 * 1024)}\"}}";
        var publishedIds = new List<long>();
        var stopwatch = Stopwatch.StartNew();
        TimeSpan? cutAfter = null;
        while (stopwatch.Elapsed < s_wait && (cutAfter is null || stopwatch.Elapsed < cutAfter + TimeSpan.FromSeconds(1)))
        {
            publishedIds.Add(await app.PublishAsync("metrics", payload));
            if (cutAfter is null && SlowConsumerCuts(cleanups) > 0)
            {
                cutAfter = stopwatch.Elapsed;
            }

            await Task.Delay(20);
        }

        output.WriteLine($"cut after {cutAfter?.TotalSeconds:F2} s and {publishedIds.Count} events of 64 KiB");
        Assert.NotNull(cutAfter);
        Assert.Equal(1, SlowConsumerCuts(cleanups));
        Assert.True(dropped.GetMeasurementSnapshot().EvaluateAsCounter() >= 1);

        // The healthy streams got every event, in order, and are still open.
        await Eventually.TrueAsync(
            () => healthy1.Ids.Count == publishedIds.Count && healthy2.Ids.Count == publishedIds.Count,
            s_wait,
            "the healthy streams received every event");
        Assert.Equal(publishedIds, healthy1.Ids);
        Assert.Equal(publishedIds, healthy2.Ids);
        Assert.Equal(2, app.Subscribers.Count);

        // The stalled client's connection was cut (it sees the end once it reads what was buffered).
        await DrainUntilClosedAsync(stalled);

        await stopReading.CancelAsync();
        await Task.WhenAll(readers);
        Assert.Empty(app.Logs.Errors);
    }

    private static long SlowConsumerCuts(MetricCollector<long> cleanups) =>
        cleanups.GetMeasurementSnapshot()
            .Where(m => (string?)m.Tags[StreamMetrics.EndReasonAttribute] == "slow_consumer")
            .Sum(m => m.Value);

    private static async Task ReadAllAsync(SseConnection stream, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                if (await stream.ReadAsync(TimeSpan.FromMilliseconds(200)) is null)
                {
                    return;
                }
            }
            catch (TimeoutException)
            {
                // Idle; check whether to stop.
            }
        }
    }

    private static async Task ReadUntilAsync(Socket socket, string marker)
    {
        var received = new StringBuilder();
        var buffer = new byte[1024];
        using var timeout = new CancellationTokenSource(s_wait);
        while (!received.ToString().Contains(marker, StringComparison.Ordinal))
        {
            var read = await socket.ReceiveAsync(buffer, timeout.Token);
            Assert.NotEqual(0, read);
            received.Append(Encoding.ASCII.GetString(buffer, 0, read));
        }
    }

    private static async Task DrainUntilClosedAsync(Socket socket)
    {
        var buffer = new byte[64 * 1024];
        using var timeout = new CancellationTokenSource(s_wait);
        try
        {
            while (await socket.ReceiveAsync(buffer, timeout.Token) > 0)
            {
            }
        }
        catch (SocketException)
        {
            // Reset by the server: also a cut.
        }
    }
}
