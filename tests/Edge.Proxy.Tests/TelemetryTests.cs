using Edge.Proxy.Telemetry;
using Edge.Proxy.Tests.Infrastructure;

namespace Edge.Proxy.Tests;

public sealed class TelemetryTests
{
    [Fact]
    public async Task YARP_forwarder_counters_are_published_as_instruments()
    {
        await using var upstream = await SseUpstream.StartAsync();
        await using var edge = await EdgeHost.StartAsync(upstream);
        using var metrics = new MetricCapture(edge.Services, EdgeProxyMetrics.MeterName);
        using var client = Clients.Http2OverTls();

        using (var response = await client.GetAsync(new Uri(edge.HttpsUrl, "/api/echo/counted")))
        {
            response.EnsureSuccessStatusCode();
        }

        // YARP publishes its EventCounters once a second; poll the observable instruments until they show the request.
        var requests = await PollAsync(metrics, EdgeProxyMetrics.ForwarderRequestsName, value => value >= 1);
        Assert.True(requests >= 1);
        await PollAsync(metrics, EdgeProxyMetrics.ForwarderActiveRequestsName, value => value >= 0);
        await PollAsync(metrics, EdgeProxyMetrics.ForwarderFailedRequestsName, value => value >= 0);
    }

    private static async Task<double> PollAsync(MetricCapture metrics, string instrument, Func<double, bool> accept)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (DateTime.UtcNow < deadline)
        {
            metrics.Measurements.Clear();
            metrics.Observe();
            if (metrics.Measurements.FirstOrDefault(m => m.Instrument == instrument) is { } found && accept(found.Value))
            {
                return found.Value;
            }

            await Task.Delay(200);
        }

        throw new TimeoutException($"{instrument} was not observed.");
    }
}
