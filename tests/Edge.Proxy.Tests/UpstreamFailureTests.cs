using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Edge.Proxy.Tests.Infrastructure;

namespace Edge.Proxy.Tests;

/// <summary>When Metrics.Api is down the edge says so at once, in a problem body; when it is back, streams work again.</summary>
public sealed class UpstreamFailureTests
{
    private static readonly TimeSpan Step = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task Upstream_down_gives_a_quick_problem_response_and_streams_resume_when_it_is_back()
    {
        await using var upstream = await SseUpstream.StartAsync();
        await using var edge = await EdgeHost.StartAsync(upstream);
        using var client = Clients.Http2OverTls();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));

        await using (var before = await SseConnection.ConnectAsync(client, new Uri(edge.HttpsUrl, "/api/stream/metrics?id=before&hb=1000"), cancellationToken: timeout.Token))
        {
            await before.ReadUntilAsync("ready", Step);
        }

        await upstream.StopAsync();

        foreach (var path in (string[])["/api/stream/metrics?id=down", "/api/echo/down"])
        {
            var asked = Stopwatch.StartNew();

            // As an EventSource asks: Accept: text/event-stream.
            await using var stream = await SseConnection.ConnectAsync(client, new Uri(edge.HttpsUrl, path), cancellationToken: timeout.Token);
            var response = stream.Response;
            Assert.True(asked.Elapsed < TimeSpan.FromSeconds(5), $"The edge took {asked.Elapsed.TotalSeconds:F1} s to report the upstream down.");
            Assert.Contains(response.StatusCode, (HttpStatusCode[])[HttpStatusCode.BadGateway, HttpStatusCode.ServiceUnavailable]);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync(timeout.Token));
            Assert.Equal((int)response.StatusCode, problem.RootElement.GetProperty("status").GetInt32());
            Assert.False(string.IsNullOrWhiteSpace(problem.RootElement.GetProperty("title").GetString()));
            Assert.False(string.IsNullOrWhiteSpace(problem.RootElement.GetProperty("detail").GetString()));
        }

        await upstream.RestartAsync();

        // The same edge, no restart: the next attempts reach the upstream again (bounded, generous).
        var recovering = Stopwatch.StartNew();
        var attempt = 0;
        while (true)
        {
            attempt++;
            await using var stream = await SseConnection.ConnectAsync(client, new Uri(edge.HttpsUrl, $"/api/stream/metrics?id=after-{attempt}&events=1&every=50&hb=1000"), cancellationToken: timeout.Token);
            if (stream.Response.StatusCode == HttpStatusCode.OK)
            {
                await stream.ReadUntilAsync("ready", Step);
                Assert.Equal("1", (await stream.ReadUntilAsync("tick", Step)).Data);
                break;
            }

            Assert.True(recovering.Elapsed < TimeSpan.FromSeconds(30) && attempt < 150, $"Streams did not resume within {recovering.Elapsed}.");
            await Task.Delay(200, timeout.Token);
        }
    }

    [Fact]
    public async Task Request_timeout_answers_504_with_a_problem_body_on_ordinary_routes()
    {
        await using var upstream = await SseUpstream.StartAsync();
        await using var edge = await EdgeHost.StartAsync(upstream, settings => settings["Edge:Proxy:RequestTimeout"] = "00:00:01");
        using var client = Clients.Http2OverTls();

        var asked = Stopwatch.StartNew();
        using var response = await client.GetAsync(new Uri(edge.HttpsUrl, "/api/echo/slow?delay=10000"));

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.InRange(asked.Elapsed, TimeSpan.FromSeconds(0.8), TimeSpan.FromSeconds(8));
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }
}
