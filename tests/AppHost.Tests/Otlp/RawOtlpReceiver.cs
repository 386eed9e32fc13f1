using System.Collections.Concurrent;
using System.IO.Compression;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Tests.Shared;

namespace AppHost.Tests.Otlp;

/// <summary>
/// An OTLP/HTTP receiver (what the Aspire dashboard is to the services) that keeps the raw request body of every
/// export to <c>/v1/traces</c>, <c>/v1/logs</c> and <c>/v1/metrics</c>. Protobuf writes strings as raw UTF-8, so a
/// value in any attribute, body or resource of any signal is found by searching the bytes; nothing is decoded.
/// </summary>
public sealed class RawOtlpReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<OtlpExport> _exports = new();

    private RawOtlpReceiver(WebApplication app) => _app = app;

    public Uri Endpoint { get; private set; } = null!;

    public IReadOnlyList<OtlpExport> Exports => [.. _exports];

    public static async Task<RawOtlpReceiver> StartAsync()
    {
        var app = LoopbackApp.CreateBuilder().Build();
        var receiver = new RawOtlpReceiver(app);
        app.MapPost("/v1/{signal}", async (string signal, HttpRequest request) =>
        {
            using var body = new MemoryStream();
            var source = request.Headers.ContentEncoding.ToString().Contains("gzip", StringComparison.OrdinalIgnoreCase)
                ? new GZipStream(request.Body, CompressionMode.Decompress)
                : request.Body;
            await source.CopyToAsync(body);
            receiver._exports.Enqueue(new OtlpExport(signal, request.ContentType ?? string.Empty, body.ToArray()));
            // An empty Export*ServiceResponse: full success.
            return Results.Bytes([], "application/x-protobuf");
        });
        await app.StartAsync();
        receiver.Endpoint = LoopbackApp.Address(app);
        return receiver;
    }

    /// <summary>The exports of <paramref name="signal"/> (traces, logs, metrics) whose bytes contain <paramref name="text"/>.</summary>
    public IEnumerable<OtlpExport> Containing(string text, string? signal = null)
    {
        var needle = Encoding.UTF8.GetBytes(text);
        return _exports.Where(e => (signal is null || e.Signal == signal) && e.Body.AsSpan().IndexOf(needle) >= 0);
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}

public sealed record OtlpExport(string Signal, string ContentType, byte[] Body)
{
    /// <summary>Whether the export's bytes contain <paramref name="text"/> (a resource attribute such as service.name, a span name).</summary>
    public bool Contains(string text) => Body.AsSpan().IndexOf(Encoding.UTF8.GetBytes(text)) >= 0;
}
