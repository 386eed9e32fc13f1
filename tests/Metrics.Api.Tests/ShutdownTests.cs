using System.Diagnostics;
using System.Net.ServerSentEvents;
using Metrics.Api.Streaming;
using Metrics.Api.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Metrics.Api.Tests;

/// <summary>SIGTERM to a real Metrics.Api process, as a container platform stops a replica.</summary>
public class ShutdownTests(ITestOutputHelper output)
{
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Sigterm_with_a_thousand_open_streams_says_farewell_on_each_ends_them_cleanly_and_exits_within_five_seconds()
    {
        const int H2cStreams = 1_000;
        const int Http1Streams = 20;
        await using var app = await MetricsApiProcess.StartAsync(new Dictionary<string, string>
        {
            ["Streaming__Sampler__Interval"] = "00:00:00.250",
        });
        using var h2c = StreamClients.H2c(app.H2cAddress, TestTokens.DefaultAccessToken);
        using var http1 = StreamClients.Http1(app.Http1Address, TestTokens.DefaultAccessToken);

        var streams = new SseConnection[H2cStreams + Http1Streams];
        foreach (var batch in Enumerable.Range(0, streams.Length).Chunk(100))
        {
            await Task.WhenAll(batch.Select(async i =>
            {
                streams[i] = await SseConnection.OpenAsync(i < H2cStreams ? h2c : http1);
                await streams[i].ReadUntilAsync(ControlEvents.ReadyType, s_wait);
            }));
        }

        // Every stream reads on until the server ends it.
        var endings = streams.Select(ReadToEndAsync).ToArray();
        var stopwatch = Stopwatch.StartNew();
        app.SendSigterm();
        var exited = await app.WaitForExitAsync(s_wait);
        var exitTime = stopwatch.Elapsed;
        var results = await Task.WhenAll(endings).WaitAsync(s_wait);
        output.WriteLine($"exited after {exitTime.TotalMilliseconds:F0} ms with code {(exited ? app.ExitCode : -1)}");

        Assert.True(exited, "the process exited");
        Assert.True(exitTime < TimeSpan.FromSeconds(5), $"exit took {exitTime.TotalSeconds:F1} s");
        Assert.Equal(0, app.ExitCode);
        foreach (var (farewell, error) in results)
        {
            Assert.Null(error);
            Assert.Equal(ControlEvents.ShutdownType, farewell?.EventType);
            Assert.InRange(farewell!.Value.ReconnectionInterval!.Value, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5));
        }

        // Retries are spread, not all the same.
        Assert.True(results.Select(r => r.Farewell!.Value.ReconnectionInterval).Distinct().Count() > 10);
        var log = app.Output;
        output.WriteLine(log);
        Assert.Contains("Shutting down: sent the farewell to", log, StringComparison.Ordinal);
        Assert.DoesNotContain("fail:", log, StringComparison.Ordinal);
        Assert.DoesNotContain("crit:", log, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", log, StringComparison.Ordinal);

        foreach (var stream in streams)
        {
            await stream.DisposeAsync();
        }
    }

    /// <summary>The last event before a clean end of stream, or the error if the stream broke instead.</summary>
    private static async Task<(SseItem<string>? Farewell, Exception? Error)> ReadToEndAsync(SseConnection stream)
    {
        SseItem<string>? last = null;
        try
        {
            while (await stream.ReadAsync(s_wait) is { } item)
            {
                last = item;
            }

            return (last, null);
        }
        catch (Exception ex)
        {
            return (last, ex);
        }
    }
}
