using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Metrics.Api.Streaming;
using Metrics.Api.Tests.Infrastructure;
using Metrics.Api.Tests.Otlp;
using Metrics.Api.Tests.Otlp.Metrics;

namespace Metrics.Api.Tests;

/// <summary>The stream metrics leave the process over OTLP/HTTP protobuf and arrive intact.</summary>
public class OtlpExportTests
{
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Stream_metrics_arrive_at_an_otlp_receiver_with_names_units_reasons_and_values()
    {
        await using var receiver = await OtlpReceiver.StartAsync();
        await using var app = await MetricsApiProcess.StartAsync(new Dictionary<string, string>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = receiver.Endpoint.ToString().TrimEnd('/'),
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_METRIC_EXPORT_INTERVAL"] = "300",
            ["OTEL_SERVICE_NAME"] = "metrics-api",
            ["Streaming__Sampler__Interval"] = "00:00:00.200",
        });
        using var client = StreamClients.H2c(app.H2cAddress, TestTokens.DefaultAccessToken);

        var streams = new List<SseConnection>();
        for (var i = 0; i < 3; i++)
        {
            var stream = await SseConnection.OpenAsync(client);
            await stream.ReadUntilAsync("metrics", s_wait);
            streams.Add(stream);
        }

        await streams[0].DisposeAsync();
        await streams[1].DisposeAsync();

        IReadOnlyDictionary<string, Metric> metrics = new Dictionary<string, Metric>();
        await Eventually.TrueAsync(
            () =>
            {
                metrics = receiver.LatestMetrics(StreamMetrics.MeterName);
                return metrics.TryGetValue(StreamMetrics.ActiveStreamsName, out var active) && Single(active.Sum).AsInt == 1
                    && metrics.TryGetValue(StreamMetrics.CleanupsName, out var cleanups) && Reason(cleanups.Sum, "client_disconnect")?.AsInt == 2;
            },
            s_wait,
            "the exports show one open stream and two client disconnects");

        var active = metrics[StreamMetrics.ActiveStreamsName];
        Assert.Equal("{stream}", active.Unit);
        Assert.False(active.Sum.IsMonotonic);

        var cleanups = metrics[StreamMetrics.CleanupsName];
        Assert.Equal("{stream}", cleanups.Unit);
        Assert.True(cleanups.Sum.IsMonotonic);
        Assert.Equal(AggregationTemporality.Cumulative, cleanups.Sum.AggregationTemporality);

        var duration = metrics[StreamMetrics.DurationName];
        Assert.Equal("s", duration.Unit);
        var disconnects = Assert.Single(duration.Histogram.DataPoints, p => Attribute(p.Attributes) == "client_disconnect");
        Assert.Equal(2UL, disconnects.Count);
        Assert.True(disconnects.Sum > 0);

        var sent = metrics[StreamMetrics.EventsSentName];
        Assert.Equal("{event}", sent.Unit);
        Assert.True(Single(sent.Sum).AsInt >= 6, "ready and at least one metrics event on each of three streams");
        Assert.Equal("metrics-api", receiver.ResourceAttributes()["service.name"]);

        // The last export, flushed on shutdown, counts the remaining stream as ended by shutdown.
        app.SendSigterm();
        Assert.True(await app.WaitForExitAsync(s_wait));
        await Eventually.TrueAsync(
            () => receiver.LatestMetrics(StreamMetrics.MeterName).TryGetValue(StreamMetrics.CleanupsName, out var c) && Reason(c.Sum, "shutdown")?.AsInt == 1,
            s_wait,
            "the final export counts one shutdown");

        await streams[2].DisposeAsync();
    }

    [Fact]
    public async Task With_the_collector_down_a_stop_waits_for_telemetry_only_as_long_as_the_flush_bound()
    {
        // A collector that hangs: it accepts connections and never answers, so every export waits out the exporter's
        // timeout (here 30 s; Aspire's in-memory retries do the same against a collector that refuses). A stop that
        // waited for the exports would take that long; the last flush is bounded (2 s) instead.
        using var collector = new TcpListener(IPAddress.Loopback, 0);
        collector.Start();
        var held = new List<TcpClient>();
        using var closing = new CancellationTokenSource();
        var holding = Task.Run(async () =>
        {
            while (!closing.IsCancellationRequested)
            {
                var connection = await collector.AcceptTcpClientAsync(closing.Token);
                lock (held)
                {
                    held.Add(connection);
                }
            }
        });
        await using var app = await MetricsApiProcess.StartAsync(new Dictionary<string, string>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = $"http://127.0.0.1:{((IPEndPoint)collector.LocalEndpoint).Port}",
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "grpc",
            ["OTEL_EXPORTER_OTLP_TIMEOUT"] = "30000",
            ["OTEL_DOTNET_EXPERIMENTAL_OTLP_RETRY"] = "in_memory",
            ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
            ["OTEL_BLRP_SCHEDULE_DELAY"] = "200",
            ["OTEL_METRIC_EXPORT_INTERVAL"] = "200",
            ["OTEL_TRACES_SAMPLER"] = "always_on",
        });
        using var client = new HttpClient { BaseAddress = app.Http1Address };
        using (var response = await client.GetAsync(new Uri("/api/instance", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        // The exporters are waiting on the collector.
        await Eventually.TrueAsync(() => { lock (held) { return held.Count > 0; } }, s_wait, "the exporters connected to the collector");
        var stopping = Stopwatch.StartNew();
        app.SendSigterm();
        Assert.True(await app.WaitForExitAsync(s_wait), "Metrics.Api did not stop");
        Assert.True(stopping.Elapsed < TimeSpan.FromSeconds(10), $"the stop took {stopping.Elapsed.TotalSeconds:F1} s");
        Assert.Equal(0, app.ExitCode);

        await closing.CancelAsync();
        await holding.ContinueWith(static _ => { }, TaskScheduler.Default);
        held.ForEach(static connection => connection.Dispose());
    }

    private static NumberDataPoint Single(Sum sum) => Assert.Single(sum.DataPoints);

    private static NumberDataPoint? Reason(Sum sum, string reason) =>
        sum.DataPoints.SingleOrDefault(p => Attribute(p.Attributes) == reason);

    private static string? Attribute(IEnumerable<Otlp.Common.KeyValue> attributes) =>
        attributes.SingleOrDefault(a => a.Key == StreamMetrics.EndReasonAttribute)?.Value?.StringValue;
}
