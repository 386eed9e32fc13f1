using System.Diagnostics;
using System.Diagnostics.Metrics;
using Metrics.Api.Streaming;
using Metrics.Api.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Xunit.Abstractions;

namespace Metrics.Api.Tests;

public class CleanupTests(ITestOutputHelper output)
{
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_thousand_dropped_streams_all_end_as_client_disconnect_and_leave_nothing_behind()
    {
        const int Streams = 1_000;
        await using var app = await TestApp.StartAsync();
        var meterFactory = app.Services.GetRequiredService<IMeterFactory>();
        using (var warmUp = app.CreateH2cClient())
        {
            await OpenAndDropAsync(app, warmUp, 50);
        }

        var (threadsBefore, timersBefore, memoryBefore) = Snapshot();
        using var cleanups = new MetricCollector<long>(meterFactory, StreamMetrics.MeterName, StreamMetrics.CleanupsName);
        using var active = new MetricCollector<long>(meterFactory, StreamMetrics.MeterName, StreamMetrics.ActiveStreamsName);
        using var duration = new MetricCollector<double>(meterFactory, StreamMetrics.MeterName, StreamMetrics.DurationName);

        using (var client = app.CreateH2cClient())
        {
            await OpenAndDropAsync(app, client, Streams);
        }

        var reasons = cleanups.GetMeasurementSnapshot()
            .GroupBy(m => (string)m.Tags[StreamMetrics.EndReasonAttribute]!)
            .ToDictionary(g => g.Key, g => g.Sum(m => m.Value));
        Assert.Equal(new Dictionary<string, long> { ["client_disconnect"] = Streams }, reasons);
        Assert.Equal(0, active.GetMeasurementSnapshot().Sum(m => m.Value));
        Assert.Equal(Streams, active.GetMeasurementSnapshot().Count(m => m.Value > 0));
        Assert.Equal(Streams, duration.GetMeasurementSnapshot().Count);
        Assert.Equal(0, app.Subscribers.DistinctUsers);

        // Nothing per stream may outlive it: no timer, no parked thread, no retained buffer.
        await Eventually.TrueAsync(
            () =>
            {
                var (threads, timers, memory) = Snapshot();
                output.WriteLine($"threads {threadsBefore}->{threads}, timers {timersBefore}->{timers}, heap {memoryBefore / 1024}->{memory / 1024} KiB");
                return threads <= threadsBefore + 20 && timers <= timersBefore + 10 && memory <= memoryBefore + (32 * 1024 * 1024);
            },
            TimeSpan.FromSeconds(30),
            "threads, timers and managed memory return near their baseline");
        Assert.Empty(app.Logs.Errors);
    }

    [Theory]
    [InlineData("1.1")]
    [InlineData("2")]
    public async Task A_client_that_goes_away_is_noticed_within_a_second(string protocol)
    {
        await using var app = await TestApp.StartAsync();
        using var client = protocol == "2" ? app.CreateH2cClient() : app.CreateHttp1Client();
        var stream = await SseConnection.OpenAsync(client);
        await stream.ReadUntilAsync(ControlEvents.ReadyType, s_wait);
        Assert.Equal(1, app.Subscribers.Count);

        await stream.DisposeAsync();
        var noticed = await Eventually.TrueAsync(() => app.Subscribers.Count == 0, TimeSpan.FromSeconds(1), "the subscriber is gone");

        output.WriteLine($"noticed after {noticed.TotalMilliseconds:F0} ms");
        Assert.Empty(app.Logs.Errors);
    }

    /// <summary>Opens <paramref name="count"/> streams, waits until the server holds them all, then drops them all.</summary>
    private static async Task OpenAndDropAsync(TestApp app, HttpClient client, int count)
    {
        var streams = new SseConnection[count];
        try
        {
            foreach (var batch in Enumerable.Range(0, count).Chunk(100))
            {
                await Task.WhenAll(batch.Select(async i =>
                {
                    streams[i] = await SseConnection.OpenAsync(client);
                    await streams[i].ReadUntilAsync(ControlEvents.ReadyType, s_wait);
                }));
            }

            await Eventually.TrueAsync(() => app.Subscribers.Count == count, s_wait, $"{count} streams are open");
        }
        finally
        {
            await Task.WhenAll(streams.Where(s => s is not null).Select(s => s.DisposeAsync().AsTask()));
        }

        await Eventually.TrueAsync(() => app.Subscribers.Count == 0, s_wait, "every dropped stream is cleaned up");
    }

    private static (int Threads, long Timers, long ManagedBytes) Snapshot()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        using var process = Process.GetCurrentProcess();
        return (process.Threads.Count, Timer.ActiveCount, GC.GetTotalMemory(forceFullCollection: true));
    }
}
