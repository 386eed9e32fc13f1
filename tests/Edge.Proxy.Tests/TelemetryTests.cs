using System.Net;
using Edge.Proxy.Telemetry;
using Edge.Proxy.Tests.Infrastructure;

namespace Edge.Proxy.Tests;

public sealed class TelemetryTests
{
    private static readonly TimeSpan Step = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task YARP_forwarder_counters_are_published_as_instruments()
    {
        const int Quick = 3;
        await using var upstream = await SseUpstream.StartAsync();
        await using var edge = await EdgeHost.StartAsync(upstream);
        using var metrics = new MetricCapture(edge.Services, EdgeProxyMetrics.MeterName);
        using var client = Clients.Http2OverTls();
        var before = await SettledAsync(metrics);

        // One request held upstream shows as active while it is forwarded, and not after.
        var held = client.GetAsync(new Uri(edge.HttpsUrl, "/api/echo/held?delay=4000"));
        await PollAsync(metrics, EdgeProxyMetrics.ForwarderActiveRequestsName, value => value == before.Active + 1);
        using (var response = await held)
        {
            response.EnsureSuccessStatusCode();
        }

        for (var i = 0; i < Quick; i++)
        {
            using var response = await client.GetAsync(new Uri(edge.HttpsUrl, $"/api/echo/counted-{i}"));
            response.EnsureSuccessStatusCode();
        }

        var started = await PollAsync(metrics, EdgeProxyMetrics.ForwarderRequestsName, value => value >= before.Started + Quick + 1);
        Assert.Equal(before.Started + Quick + 1, started);
        await PollAsync(metrics, EdgeProxyMetrics.ForwarderActiveRequestsName, value => value == before.Active);

        await upstream.StopAsync();
        using (var response = await client.GetAsync(new Uri(edge.HttpsUrl, "/api/echo/down")))
        {
            Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        }

        var failed = await PollAsync(metrics, EdgeProxyMetrics.ForwarderFailedRequestsName, value => value >= before.Failed + 1);
        Assert.Equal(before.Failed + 1, failed);
    }

    /// <summary>
    /// YARP's counters are totals for the whole test process (earlier tests' edges count too) and arrive once a
    /// second, so the baseline is a reading that held across more than two reports with nothing forwarded.
    /// </summary>
    private static async Task<ForwarderCounts> SettledAsync(MetricCapture metrics)
    {
        var deadline = DateTime.UtcNow + Step;
        var last = Read(metrics);
        var since = DateTime.UtcNow;
        while (DateTime.UtcNow < deadline)
        {
            await Task.Delay(200);
            var now = Read(metrics);
            if (now != last)
            {
                (last, since) = (now, DateTime.UtcNow);
            }
            else if (DateTime.UtcNow - since > TimeSpan.FromSeconds(2.5))
            {
                return now;
            }
        }

        throw new TimeoutException($"YARP's counters did not settle: {last}.");
    }

    private static ForwarderCounts Read(MetricCapture metrics)
    {
        metrics.Measurements.Clear();
        metrics.Observe();
        double Value(string instrument) => metrics.Measurements.FirstOrDefault(m => m.Instrument == instrument)?.Value ?? double.NaN;
        return new ForwarderCounts(
            Value(EdgeProxyMetrics.ForwarderRequestsName),
            Value(EdgeProxyMetrics.ForwarderFailedRequestsName),
            Value(EdgeProxyMetrics.ForwarderActiveRequestsName));
    }

    // YARP publishes its EventCounters once a second: poll the observable instrument until it shows what is expected.
    private static async Task<double> PollAsync(MetricCapture metrics, string instrument, Func<double, bool> expected)
    {
        var deadline = DateTime.UtcNow + Step;
        double? last = null;
        while (DateTime.UtcNow < deadline)
        {
            metrics.Measurements.Clear();
            metrics.Observe();
            if (metrics.Measurements.FirstOrDefault(m => m.Instrument == instrument) is { } found)
            {
                last = found.Value;
                if (expected(found.Value))
                {
                    return found.Value;
                }
            }

            await Task.Delay(200);
        }

        throw new TimeoutException($"{instrument} never showed the expected value; last observed: {last?.ToString() ?? "nothing"}.");
    }

    private readonly record struct ForwarderCounts(double Started, double Failed, double Active);
}
