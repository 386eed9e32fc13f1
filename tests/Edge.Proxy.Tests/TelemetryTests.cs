using System.Net;
using Edge.Proxy.Telemetry;
using Edge.Proxy.Tests.Infrastructure;

namespace Edge.Proxy.Tests;

public sealed class TelemetryTests
{
    private static readonly TimeSpan Step = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task Forwarded_requests_are_counted_per_route_while_active_and_when_they_fail()
    {
        const int Quick = 3;
        await using var upstream = await SseUpstream.StartAsync();
        await using var edge = await EdgeHost.StartAsync(upstream);
        using var metrics = new MetricCapture(edge.Services, EdgeProxyMetrics.MeterName);
        using var client = Clients.Http2OverTls();

        // One request held upstream shows as active while it is forwarded, and not after.
        var held = client.GetAsync(new Uri(edge.HttpsUrl, "/api/echo/held?delay=4000"));
        await UntilAsync(metrics, EdgeProxyMetrics.ForwarderActiveRequestsName, total => total == 1);
        using (var response = await held)
        {
            response.EnsureSuccessStatusCode();
        }

        for (var i = 0; i < Quick; i++)
        {
            using var response = await client.GetAsync(new Uri(edge.HttpsUrl, $"/api/echo/counted-{i}"));
            response.EnsureSuccessStatusCode();
        }

        await UntilAsync(metrics, EdgeProxyMetrics.ForwarderActiveRequestsName, total => total == 0);
        Assert.Equal(Quick + 1, Total(metrics, EdgeProxyMetrics.ForwarderRequestsName));
        Assert.Equal(0, Total(metrics, EdgeProxyMetrics.ForwarderFailedRequestsName));
        Assert.All(metrics.Measurements, m => Assert.Equal("api", m.Tag(EdgeProxyMetrics.RouteTag)));

        await upstream.StopAsync();
        using (var response = await client.GetAsync(new Uri(edge.HttpsUrl, "/api/echo/down")))
        {
            Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        }

        await UntilAsync(metrics, EdgeProxyMetrics.ForwarderActiveRequestsName, total => total == 0);
        Assert.Equal(Quick + 2, Total(metrics, EdgeProxyMetrics.ForwarderRequestsName));
        var failed = Assert.Single(metrics.Measurements, m => m.Instrument == EdgeProxyMetrics.ForwarderFailedRequestsName);
        Assert.Equal(1, failed.Value);
        Assert.Equal("Request", failed.Tag(EdgeProxyMetrics.ErrorTypeTag));
    }

    private static double Total(MetricCapture metrics, string instrument) =>
        metrics.Measurements.Where(m => m.Instrument == instrument).Sum(m => m.Value);

    // The counts change as the pipeline's middleware returns, which may be just after the client has its response.
    private static async Task UntilAsync(MetricCapture metrics, string instrument, Func<double, bool> expected)
    {
        var deadline = DateTime.UtcNow + Step;
        while (!expected(Total(metrics, instrument)))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{instrument} never reached the expected total; it is {Total(metrics, instrument)}.");
            }

            await Task.Delay(50);
        }
    }
}
