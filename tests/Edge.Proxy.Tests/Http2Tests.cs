using System.Net;
using Edge.Proxy.Forwarding;
using Edge.Proxy.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Yarp.ReverseProxy.Forwarder;

namespace Edge.Proxy.Tests;

/// <summary>HTTP/2 towards clients: TLS with ALPN for browsers, h2c for Azure Container Apps ingress, HTTP/1.1 for probes.</summary>
public sealed class Http2Tests
{
    private static readonly TimeSpan Step = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Client_over_TLS_negotiates_HTTP2_and_the_edge_speaks_h2c_upstream()
    {
        await using var upstream = await SseUpstream.StartAsync();
        await using var edge = await EdgeHost.StartAsync(upstream);
        using var client = Clients.Http2OverTls();

        using var response = await client.GetAsync(new Uri(edge.HttpsUrl, "/api/echo/version"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(HttpVersion.Version20, response.Version);
        Assert.Equal("HTTP/2", Assert.Single(upstream.Requests, r => r.Path == "/api/echo/version").Protocol);

        // The edge's own client factory (connect timeout, keep-alive pings) is the one YARP uses.
        Assert.IsType<UpstreamHttpClientFactory>(edge.Services.GetRequiredService<IForwarderHttpClientFactory>());
    }

    [Fact]
    public async Task H2c_endpoint_serves_HTTP2_with_prior_knowledge_and_probe_endpoint_serves_HTTP11()
    {
        await using var upstream = await SseUpstream.StartAsync();
        await using var edge = await EdgeHost.StartAsync(upstream);

        using var h2c = Clients.H2c();
        using var viaH2c = await h2c.GetAsync(new Uri(edge.H2cUrl, "/api/echo/h2c"));
        Assert.Equal(HttpStatusCode.OK, viaH2c.StatusCode);
        Assert.Equal(HttpVersion.Version20, viaH2c.Version);

        using var http11 = Clients.Http11();
        using var probe = await http11.GetAsync(new Uri(edge.HttpUrl, "/alive"));
        Assert.Equal(HttpStatusCode.OK, probe.StatusCode);
        Assert.Equal(HttpVersion.Version11, probe.Version);
    }

    [Fact]
    public async Task More_than_100_streams_stay_open_together_on_one_HTTP2_connection()
    {
        const int Streams = 120;
        await using var upstream = await SseUpstream.StartAsync();
        await using var edge = await EdgeHost.StartAsync(upstream);
        var connections = new ConnectionCounter();
        using var client = Clients.Http2OverTls(connections);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));

        // Like a browser, load the page first: the streams then join its connection instead of racing to open their own.
        using (var page = await client.GetAsync(edge.HttpsUrl, timeout.Token))
        {
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        }

        var streams = new SseConnection[Streams];
        try
        {
            // Every stream must be open at once: none of them ends, so with a limit of 100 the rest would wait forever.
            await Task.WhenAll(Enumerable.Range(0, Streams).Select(async i =>
            {
                streams[i] = await SseConnection.ConnectAsync(client, new Uri(edge.HttpsUrl, $"/api/stream/many?id=many-{i}&events=2&every=300&hb=1000"), cancellationToken: timeout.Token);
                Assert.Equal(HttpStatusCode.OK, streams[i].Response.StatusCode);
                await streams[i].ReadUntilAsync("ready", Step);
            }));

            Assert.Equal(Streams, upstream.Streams.Keys.Count(k => k.StartsWith("many-", StringComparison.Ordinal)));

            await Task.WhenAll(streams.Select(async stream =>
            {
                Assert.Equal("1", (await stream.ReadUntilAsync("tick", Step)).Data);
                Assert.Equal("2", (await stream.ReadUntilAsync("tick", Step)).Data);
            }));

            Assert.Equal(1, connections.Count);
            Assert.All(streams, s => Assert.Equal(HttpVersion.Version20, s.Response.Version));
        }
        finally
        {
            await Task.WhenAll(streams.Where(s => s is not null).Select(s => s.DisposeAsync().AsTask()));
        }
    }
}
