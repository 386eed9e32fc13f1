using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using Metrics.Api.Streaming;
using Metrics.Api.Tests.Infrastructure;

namespace Metrics.Api.Tests;

/// <summary>What goes over the socket: headers, frames, ids, and what client-controlled text can and cannot do.</summary>
public class WireTests
{
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(15);

    [Theory]
    [InlineData("1.1")]
    [InlineData("2")]
    public async Task Stream_answers_with_event_stream_headers_uncompressed_and_ready_within_a_second(string protocol)
    {
        await using var app = await TestApp.StartAsync();
        using var client = protocol == "2" ? app.CreateH2cClient() : app.CreateHttp1Client();
        // Warm the connection and the endpoint's code: the bound is about the server writing at once, not JIT.
        await (await SseConnection.OpenAsync(client)).DisposeAsync();

        var stopwatch = Stopwatch.StartNew();
        using var request = new HttpRequestMessage(HttpMethod.Get, SseConnection.StreamPath)
        {
            Version = client.DefaultRequestVersion,
            VersionPolicy = client.DefaultVersionPolicy,
        };
        request.Headers.AcceptEncoding.ParseAdd("gzip, br");
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await using var body = await response.Content.ReadAsStreamAsync();
        var firstFrame = await ReadUntilBlankLineAsync(body);
        var elapsed = stopwatch.Elapsed;

        Assert.Equal(protocol == "2" ? HttpVersion.Version20 : HttpVersion.Version11, response.Version);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.True(response.Headers.CacheControl?.NoCache, "Cache-Control: no-cache");
        Assert.True(response.Headers.CacheControl?.NoStore, "Cache-Control: no-store");
        Assert.All(response.Content.Headers.ContentEncoding, encoding => Assert.Equal("identity", encoding));
        Assert.True(elapsed < TimeSpan.FromSeconds(1), $"ready took {elapsed.TotalMilliseconds:F0} ms");
        Assert.StartsWith("event: ready\ndata: {", firstFrame, StringComparison.Ordinal);
        Assert.EndsWith("\nretry: 3000\n\n", firstFrame, StringComparison.Ordinal);
        Assert.DoesNotContain("\nid:", firstFrame, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Data_events_carry_server_ids_on_id_lines_and_control_events_carry_none()
    {
        await using var app = await TestApp.StartAsync(new Dictionary<string, string?> { ["Streaming:HeartbeatInterval"] = "00:00:00.200" });
        using var client = app.CreateHttp1Client();
        using var response = await client.GetAsync(new Uri(SseConnection.StreamPath, UriKind.Relative), HttpCompletionOption.ResponseHeadersRead);
        await using var body = await response.Content.ReadAsStreamAsync();
        await ReadUntilBlankLineAsync(body); // ready

        var id = await app.PublishAsync("metrics", "{\"n\":1}");
        string frame;
        do
        {
            frame = await ReadUntilBlankLineAsync(body);
        }
        while (frame.StartsWith("event: ping", StringComparison.Ordinal));

        Assert.Equal($"event: metrics\ndata: {{\"n\":1}}\nid: {id}\n\n", frame);
        var ping = await ReadUntilBlankLineAsync(body);
        Assert.Equal("event: ping\ndata: \n\n", ping);
    }

    [Fact]
    public async Task Multi_line_data_that_tries_to_inject_an_event_arrives_as_literal_data_of_one_event()
    {
        await using var app = await TestApp.StartAsync();
        using var client = app.CreateHttp1Client();
        await using var stream = await SseConnection.OpenAsync(client);
        await stream.ReadUntilAsync(ControlEvents.ReadyType, s_wait);

        const string Hostile = "line1\n\nevent: injected\nid: 999\r\ndata: evil\rretry: 1";
        var id = await app.PublishAsync("metrics", Hostile);
        var sentinel = await app.PublishAsync("metrics", "{}");

        var item = await stream.ReadUntilAsync("metrics", s_wait);
        var next = await stream.ReadUntilAsync("metrics", s_wait);

        // Every line became its own data: line; CR LF and lone CR were normalised to LF.
        Assert.Equal("line1\n\nevent: injected\nid: 999\ndata: evil\nretry: 1", item.Data);
        Assert.Equal(id.ToString(System.Globalization.CultureInfo.InvariantCulture), item.EventId);
        Assert.Null(item.ReconnectionInterval);
        Assert.Equal(sentinel.ToString(System.Globalization.CultureInfo.InvariantCulture), next.EventId);
        Assert.Equal([id, sentinel], stream.Ids);
    }

    [Fact]
    public async Task Metrics_events_carry_real_samples_of_this_process_and_host()
    {
        await using var app = await TestApp.StartAsync(new Dictionary<string, string?>
        {
            ["Streaming:Sampler:Enabled"] = "true",
            ["Streaming:Sampler:Interval"] = "00:00:00.100",
            ["OTEL_RESOURCE_ATTRIBUTES"] = "service.instance.id=replica-7",
        });
        using var client = app.CreateH2cClient();
        await using var stream = await SseConnection.OpenAsync(client);

        await stream.ReadUntilAsync("metrics", s_wait);
        var second = await stream.ReadUntilAsync("metrics", s_wait);

        using var json = JsonDocument.Parse(second.Data);
        var root = json.RootElement;
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        Assert.InRange(root.GetProperty("timestamp").GetInt64(), now - 60_000, now + 1_000);
        Assert.Equal("replica-7", root.GetProperty("instanceId").GetString());
        var process = root.GetProperty("process");
        Assert.InRange(process.GetProperty("cpuPercent").GetDouble(), 0, 100);
        Assert.True(process.GetProperty("workingSetBytes").GetInt64() > 10_000_000);
        Assert.True(process.GetProperty("gcHeapBytes").GetInt64() > 0);
        Assert.Equal(JsonValueKind.Number, process.GetProperty("threadPoolQueueLength").ValueKind);
        Assert.True(process.GetProperty("threadPoolThreads").GetInt32() > 0);
        var host = root.GetProperty("host");
        Assert.Contains(host.GetProperty("source").GetString(), new[] { "cgroup", "proc" });
        Assert.True(host.GetProperty("cpuLimitCores").GetDouble() > 0);
        Assert.True(host.GetProperty("memoryLimitBytes").GetInt64() > host.GetProperty("memoryUsedBytes").GetInt64());
        var streams = root.GetProperty("streams");
        Assert.Equal(1, streams.GetProperty("open").GetInt32());
        Assert.Equal(1, streams.GetProperty("users").GetInt32());
        Assert.True(streams.GetProperty("eventsPerSecond").GetDouble() > 0);
        Assert.Equal(stream.Ids[0] + 1, stream.Ids[1]);
    }

    [Fact]
    public async Task Heartbeats_arrive_at_the_configured_interval_without_ids()
    {
        await using var app = await TestApp.StartAsync(new Dictionary<string, string?> { ["Streaming:HeartbeatInterval"] = "00:00:00.100" });
        using var client = app.CreateHttp1Client();
        await using var stream = await SseConnection.OpenAsync(client);

        for (var i = 0; i < 3; i++)
        {
            var ping = await stream.ReadUntilAsync(ControlEvents.PingType, s_wait);
            Assert.Equal(string.Empty, ping.Data);
            Assert.Null(ping.EventId);
        }

        Assert.Empty(stream.Ids);
    }

    [Theory]
    [InlineData("header", "abc")]
    [InlineData("header", "-5")]
    [InlineData("header", "12345678901234567890")]
    [InlineData("header", "1 2")]
    [InlineData("query", "9223372036854775808")]
    [InlineData("query", "1%0D%0Aevent%3A%20injected")]
    [InlineData("query", "<script>")]
    public async Task Malformed_or_oversize_last_event_ids_are_rejected_with_problem_details_that_do_not_echo_them(string where, string value)
    {
        await using var app = await TestApp.StartAsync();
        using var client = app.CreateHttp1Client();
        using var request = new HttpRequestMessage(
            HttpMethod.Get,
            where == "query" ? $"{SseConnection.StreamPath}?lastEventId={value}" : SseConnection.StreamPath);
        if (where == "header")
        {
            request.Headers.TryAddWithoutValidation("Last-Event-ID", value);
        }

        using var response = await client.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(body);
        Assert.Equal(400, problem.RootElement.GetProperty("status").GetInt32());
        foreach (var property in problem.RootElement.EnumerateObject().Where(p => p.Name != "traceId"))
        {
            Assert.DoesNotContain(Uri.UnescapeDataString(value), property.Value.ToString(), StringComparison.Ordinal);
        }

        Assert.Equal(0, app.Subscribers.Count);
    }

    /// <summary>Reads raw bytes up to and including the blank line that ends one SSE frame.</summary>
    private static async Task<string> ReadUntilBlankLineAsync(Stream body)
    {
        var frame = new StringBuilder();
        var buffer = new byte[1];
        using var timeout = new CancellationTokenSource(s_wait);
        while (!frame.ToString().EndsWith("\n\n", StringComparison.Ordinal))
        {
            var read = await body.ReadAsync(buffer, timeout.Token);
            Assert.NotEqual(0, read);
            frame.Append((char)buffer[0]);
        }

        return frame.ToString();
    }
}
