using System.Collections.Concurrent;
using Metrics.Api.Tests.Otlp.Collector;
using Metrics.Api.Tests.Otlp.Metrics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Tests.Shared;

namespace Metrics.Api.Tests.Otlp;

/// <summary>
/// A real OTLP/HTTP receiver (protobuf) on 127.0.0.1 with an OS-chosen port: keeps every metrics
/// export, decoded with the proto subset in Otlp/Protos; acknowledges traces and logs.
/// </summary>
public sealed class OtlpReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<ExportMetricsServiceRequest> _exports = new();

    private OtlpReceiver(WebApplication app) => _app = app;

    public Uri Endpoint { get; private set; } = null!;

    public int ExportCount => _exports.Count;

    public static Task<OtlpReceiver> StartAsync() => HostStartGate.StartAsync(BuildAndStartAsync);

    private static async Task<OtlpReceiver> BuildAndStartAsync()
    {
        var app = LoopbackApp.CreateBuilder().Build();
        var receiver = new OtlpReceiver(app);
        app.MapPost("/v1/metrics", async (HttpRequest request) =>
        {
            using var body = new MemoryStream();
            await request.Body.CopyToAsync(body);
            receiver._exports.Enqueue(ExportMetricsServiceRequest.Parser.ParseFrom(body.ToArray()));
            return Results.Ok();
        });
        app.MapPost("/v1/{signal}", () => Results.Ok());
        await LoopbackApp.StartAsync(app);
        receiver.Endpoint = LoopbackApp.Address(app);
        return receiver;
    }

    /// <summary>The most recent data point of each metric of <paramref name="scope"/>, newest export last.</summary>
    public IReadOnlyDictionary<string, Metric> LatestMetrics(string scope)
    {
        var latest = new Dictionary<string, Metric>();
        foreach (var export in _exports)
        {
            foreach (var metric in export.ResourceMetrics
                .SelectMany(r => r.ScopeMetrics)
                .Where(s => s.Scope?.Name == scope)
                .SelectMany(s => s.Metrics))
            {
                latest[metric.Name] = metric;
            }
        }

        return latest;
    }

    /// <summary>Resource attributes of the exports (service.name and friends).</summary>
    public IReadOnlyDictionary<string, string> ResourceAttributes() =>
        _exports.SelectMany(e => e.ResourceMetrics)
            .SelectMany(r => r.Resource?.Attributes ?? [])
            .GroupBy(a => a.Key)
            .ToDictionary(g => g.Key, g => g.Last().Value?.StringValue ?? string.Empty);

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
