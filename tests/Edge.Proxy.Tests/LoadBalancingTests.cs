using System.Net;
using Edge.Proxy.Tests.Infrastructure;

namespace Edge.Proxy.Tests;

public sealed class LoadBalancingTests
{
    private static readonly TimeSpan Step = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task Streams_are_spread_over_every_replica_service_discovery_lists()
    {
        await using var first = await SseUpstream.StartAsync("replica-0");
        await using var second = await SseUpstream.StartAsync("replica-1");
        await using var edge = await EdgeHost.StartAsync(first, settings =>
            settings["services:metrics-api:h2c:1"] = second.Http2Url.ToString());
        using var client = Clients.Http2OverTls();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));

        var streams = new List<SseConnection>();
        try
        {
            for (var i = 0; i < 10; i++)
            {
                var stream = await SseConnection.ConnectAsync(client, new Uri(edge.HttpsUrl, $"/api/stream/metrics?id=lb-{i}&hb=1000"), cancellationToken: timeout.Token);
                streams.Add(stream);
                Assert.Equal(HttpStatusCode.OK, stream.Response.StatusCode);
                await stream.ReadUntilAsync("ready", Step);
            }

            // Open streams count as load, so power-of-two-choices keeps the replicas even.
            Assert.InRange(first.Streams.Count, 3, 7);
            Assert.InRange(second.Streams.Count, 3, 7);
            Assert.Equal(10, first.Streams.Count + second.Streams.Count);
        }
        finally
        {
            foreach (var stream in streams)
            {
                await stream.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Streams_are_spread_over_replicas_behind_one_layer_4_address()
    {
        // One services__ entry, as Aspire gives the edge for a resource with replicas: DCP's TCP proxy in front of both.
        await using var first = await SseUpstream.StartAsync("replica-0");
        await using var second = await SseUpstream.StartAsync("replica-1");
        await using var balancer = RoundRobinTcpProxy.Start(first.Http2Url, second.Http2Url);
        await using var edge = await EdgeHost.StartAsync(first, settings => settings["services:metrics-api:h2c:0"] = balancer.Url.ToString());
        using var client = Clients.Http2OverTls();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));

        var streams = new List<SseConnection>();
        try
        {
            for (var i = 0; i < 8; i++)
            {
                var stream = await SseConnection.ConnectAsync(client, new Uri(edge.HttpsUrl, $"/api/stream/metrics?id=l4-{i}&hb=1000"), cancellationToken: timeout.Token);
                streams.Add(stream);
                Assert.Equal(HttpStatusCode.OK, stream.Response.StatusCode);
                await stream.ReadUntilAsync("ready", Step);
            }

            // Over one multiplexed connection all eight would be on one replica.
            Assert.Equal(8, first.Streams.Count + second.Streams.Count);
            Assert.InRange(first.Streams.Count, 2, 6);
            Assert.InRange(second.Streams.Count, 2, 6);
        }
        finally
        {
            foreach (var stream in streams)
            {
                await stream.DisposeAsync();
            }
        }
    }
}
