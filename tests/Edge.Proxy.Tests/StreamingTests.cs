using System.Diagnostics;
using System.Net;
using Edge.Proxy.Telemetry;
using Edge.Proxy.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Edge.Proxy.Tests;

/// <summary>Events pass the edge as they are written, idle streams live on heartbeats, and a client leaving is felt upstream at once.</summary>
public sealed class StreamingTests
{
    private static readonly TimeSpan Step = TimeSpan.FromSeconds(15);

    [Theory]
    [InlineData(ClientProtocol.Http11)]
    [InlineData(ClientProtocol.Http2Tls)]
    [InlineData(ClientProtocol.H2c)]
    public async Task Events_arrive_one_by_one_as_they_are_written(string protocol)
    {
        const int Events = 5;
        await using var upstream = await SseUpstream.StartAsync();
        await using var edge = await EdgeHost.StartAsync(upstream);
        var (client, baseUrl) = ClientProtocol.For(protocol, edge);
        using var _ = client;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var id = $"one-by-one-{protocol}";

        // The upstream writes event n+1 only after the test has received event n: if anything on the way held
        // events back to batch them, event n would never arrive and the upstream would send "nack" instead.
        await using var stream = await SseConnection.ConnectAsync(client, new Uri(baseUrl, $"/api/stream/metrics?id={id}&events={Events}&ack=1&end=1"), cancellationToken: timeout.Token);
        Assert.Equal(HttpStatusCode.OK, stream.Response.StatusCode);
        await stream.ReadUntilAsync("ready", Step);

        for (var seq = 1; seq <= Events; seq++)
        {
            var item = await stream.ReadAsync(Step) ?? throw new InvalidOperationException("The stream ended early.");
            var receivedAt = Stopwatch.GetTimestamp();
            Assert.Equal("tick", item.EventType);
            Assert.Equal(seq.ToString(System.Globalization.CultureInfo.InvariantCulture), item.Data);

            var latency = Stopwatch.GetElapsedTime(upstream.Streams[id].WrittenAt(seq), receivedAt);
            Assert.True(latency < TimeSpan.FromSeconds(2), $"Event {seq} took {latency.TotalMilliseconds:F0} ms through the edge.");
            upstream.Ack(id, seq);
        }

        Assert.Null(await stream.ReadAsync(Step));
    }

    [Theory]
    [InlineData(ClientProtocol.Http11)]
    [InlineData(ClientProtocol.Http2Tls)]
    public async Task Large_events_arrive_whole(string protocol)
    {
        // 100 KiB events: several reads of YARP's copy buffer and many HTTP/2 DATA frames on both hops.
        const int Events = 3, Padding = 100 * 1024;
        await using var upstream = await SseUpstream.StartAsync();
        await using var edge = await EdgeHost.StartAsync(upstream);
        var (client, baseUrl) = ClientProtocol.For(protocol, edge);
        using var _ = client;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));

        await using var stream = await SseConnection.ConnectAsync(client, new Uri(baseUrl, $"/api/stream/metrics?id=large-{protocol}&events={Events}&every=50&size={Padding}&end=1"), cancellationToken: timeout.Token);
        await stream.ReadUntilAsync("ready", Step);
        for (var seq = 1; seq <= Events; seq++)
        {
            var item = await stream.ReadAsync(Step) ?? throw new InvalidOperationException("The stream ended early.");
            Assert.Equal("tick", item.EventType);
            Assert.Equal(seq.ToString(System.Globalization.CultureInfo.InvariantCulture) + new string('x', Padding), item.Data);
        }

        Assert.Null(await stream.ReadAsync(Step));
    }

    [Fact]
    public async Task Stream_idle_except_for_heartbeats_outlives_the_activity_timeout_and_the_request_timeout()
    {
        await using var upstream = await SseUpstream.StartAsync();
        await using var edge = await EdgeHost.StartAsync(upstream, ShortTimeouts);
        using var client = Clients.Http2OverTls();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));

        await using var stream = await SseConnection.ConnectAsync(client, new Uri(edge.HttpsUrl, "/api/stream/metrics?id=heartbeats&hb=500"), cancellationToken: timeout.Token);
        await stream.ReadUntilAsync("ready", Step);

        // Five seconds: 2.5 activity timeouts and 5 request timeouts, bridged only by heartbeats.
        var open = Stopwatch.StartNew();
        var heartbeats = 0;
        while (open.Elapsed < TimeSpan.FromSeconds(5))
        {
            var item = await stream.ReadAsync(Step);
            Assert.NotNull(item);
            Assert.Equal("heartbeat", item.Value.EventType);
            heartbeats++;
        }

        Assert.InRange(heartbeats, 5, 20);
        Assert.False(upstream.Streams["heartbeats"].Aborted.IsCompleted);
    }

    [Fact]
    public async Task Stream_without_heartbeats_is_cut_after_the_activity_timeout_and_counted_as_such()
    {
        await using var upstream = await SseUpstream.StartAsync();
        await using var edge = await EdgeHost.StartAsync(upstream, ShortTimeouts);
        using var metrics = new MetricCapture(edge.Services, EdgeProxyMetrics.MeterName);
        using var client = Clients.Http2OverTls();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));

        await using var stream = await SseConnection.ConnectAsync(client, new Uri(edge.HttpsUrl, "/api/stream/metrics?id=silent&hb=0"), cancellationToken: timeout.Token);
        await stream.ReadUntilAsync("ready", Step);
        var open = Stopwatch.StartNew();

        // This is why the upstream must send heartbeats: silence is indistinguishable from a dead upstream.
        var cut = await Assert.ThrowsAnyAsync<Exception>(() => stream.ReadAsync(Step));
        Assert.IsNotType<TimeoutException>(cut);
        Assert.InRange(open.Elapsed, TimeSpan.FromSeconds(1.5), TimeSpan.FromSeconds(14));

        await upstream.Streams["silent"].Aborted.WaitAsync(Step);
        var ended = await metrics.WaitForAsync(m => m.Instrument == EdgeProxyMetrics.EndedStreamsName, Step);
        Assert.Equal("activity_timeout", ended.Tag(EdgeProxyMetrics.EndReasonTag));
        Assert.Equal("ResponseBodyDestination", ended.Tag(EdgeProxyMetrics.ErrorTypeTag));
        Assert.Equal("api-stream", ended.Tag(EdgeProxyMetrics.RouteTag));
    }

    [Theory]
    [InlineData(ClientProtocol.Http11)]
    [InlineData(ClientProtocol.Http2Tls)]
    public async Task Client_disconnect_aborts_the_upstream_request_within_a_second(string protocol)
    {
        await using var upstream = await SseUpstream.StartAsync();
        await using var edge = await EdgeHost.StartAsync(upstream);
        using var metrics = new MetricCapture(edge.Services, EdgeProxyMetrics.MeterName);
        var (client, baseUrl) = ClientProtocol.For(protocol, edge);
        using var _ = client;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var id = $"leaving-{protocol}";

        var stream = await SseConnection.ConnectAsync(client, new Uri(baseUrl, $"/api/stream/metrics?id={id}&hb=5000"), cancellationToken: timeout.Token);
        await stream.ReadUntilAsync("ready", Step);
        var record = upstream.Streams[id];
        Assert.False(record.Aborted.IsCompleted);

        var left = Stopwatch.GetTimestamp();
        await stream.DisposeAsync();
        var abortedAt = await record.Aborted.WaitAsync(Step);

        var delay = Stopwatch.GetElapsedTime(left, abortedAt);
        Assert.True(delay < TimeSpan.FromSeconds(1), $"The upstream noticed the client leaving after {delay.TotalMilliseconds:F0} ms.");

        var ended = await metrics.WaitForAsync(m => m.Instrument == EdgeProxyMetrics.EndedStreamsName, Step);
        Assert.Equal("client_aborted", ended.Tag(EdgeProxyMetrics.EndReasonTag));
    }

    [Fact]
    public async Task Stream_responses_are_marked_no_transform_and_never_compressed()
    {
        await using var upstream = await SseUpstream.StartAsync();
        await using var edge = await EdgeHost.StartAsync(upstream);
        using var metrics = new MetricCapture(edge.Services, EdgeProxyMetrics.MeterName);
        using var client = Clients.Http2OverTls();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));

        await using var stream = await SseConnection.ConnectAsync(
            client, new Uri(edge.HttpsUrl, "/api/stream/metrics?id=headers&events=2&every=50&end=1"), request => request.Headers.TryAddWithoutValidation("Accept-Encoding", "gzip, br"), cancellationToken: timeout.Token);

        var response = stream.Response;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.Empty(response.Content.Headers.ContentEncoding);
        var cacheControl = response.Headers.CacheControl!;
        Assert.True(cacheControl.NoTransform);
        Assert.True(cacheControl.NoCache);
        Assert.True(cacheControl.NoStore);
        Assert.Equal("no", Assert.Single(response.Headers.GetValues("X-Accel-Buffering")));

        // Readable as plain text, event by event, and the upstream was never invited to compress.
        await stream.ReadUntilAsync("ready", Step);
        Assert.Equal("1", (await stream.ReadUntilAsync("tick", Step)).Data);
        Assert.Equal("2", (await stream.ReadUntilAsync("tick", Step)).Data);
        Assert.Null(await stream.ReadAsync(Step));
        Assert.False(upstream.Streams["headers"].Request.Headers.ContainsKey("Accept-Encoding"));

        var ended = await metrics.WaitForAsync(m => m.Instrument == EdgeProxyMetrics.EndedStreamsName, Step);
        Assert.Equal("completed", ended.Tag(EdgeProxyMetrics.EndReasonTag));
        Assert.Null(ended.Tag(EdgeProxyMetrics.ErrorTypeTag));
    }

    [Fact]
    public async Task Open_streams_are_reset_at_once_when_the_edge_shuts_down()
    {
        await using var upstream = await SseUpstream.StartAsync();
        await using var edge = await EdgeHost.StartAsync(upstream);
        using var metrics = new MetricCapture(edge.Services, EdgeProxyMetrics.MeterName);
        using var client = Clients.Http2OverTls();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));

        await using var stream = await SseConnection.ConnectAsync(client, new Uri(edge.HttpsUrl, "/api/stream/metrics?id=shutdown&hb=5000"), cancellationToken: timeout.Token);
        await stream.ReadUntilAsync("ready", Step);

        var stopping = Stopwatch.StartNew();
        edge.Services.GetRequiredService<IHostApplicationLifetime>().StopApplication();

        // Not after the host's 30 s shutdown timeout: the browser reconnects elsewhere right away.
        await Assert.ThrowsAnyAsync<IOException>(() => stream.ReadAsync(Step));
        Assert.True(stopping.Elapsed < TimeSpan.FromSeconds(5), $"The stream was reset {stopping.Elapsed.TotalSeconds:F1} s after shutdown began.");
        await upstream.Streams["shutdown"].Aborted.WaitAsync(Step);

        var ended = await metrics.WaitForAsync(m => m.Instrument == EdgeProxyMetrics.EndedStreamsName, Step);
        Assert.Equal("shutdown", ended.Tag(EdgeProxyMetrics.EndReasonTag));
    }

    /// <summary>A 2 s activity timeout over 0.5 s heartbeats, and a 1 s default request timeout for other routes.</summary>
    private static void ShortTimeouts(Dictionary<string, string?> settings)
    {
        settings["ReverseProxy:Clusters:metrics-api:HttpRequest:ActivityTimeout"] = "00:00:02";
        settings["Edge:Proxy:StreamHeartbeatInterval"] = "00:00:00.5";
        settings["Edge:Proxy:RequestTimeout"] = "00:00:01";
    }
}
