using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.ResponseCompression;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Tests.Shared;

namespace Edge.Proxy.Tests.Infrastructure;

/// <summary>
/// A real upstream on Kestrel, standing in for Metrics.Api and Dashboard.Web: an HTTP/1.1 endpoint and an
/// HTTP/2-only (h2c) endpoint on 127.0.0.1 with OS-chosen ports, which survive a restart.
/// <para>
/// <c>GET /api/stream/{name}?id=..&amp;hb=ms&amp;events=n&amp;every=ms&amp;ack=1&amp;end=1&amp;size=bytes</c> serves SSE: a <c>ready</c>
/// event at once, then <c>n</c> <c>tick</c> events (every <c>every</c> ms, or each after the test acknowledged the
/// previous one; data: the sequence number followed by <c>size</c> bytes of padding), then <c>heartbeat</c> events
/// every <c>hb</c> ms until the client leaves (or it ends, with <c>end=1</c>).
/// It compresses event streams when asked to (a naive upstream), so the test sees whether the edge asks.
/// </para>
/// </summary>
public sealed class SseUpstream : IAsyncDisposable
{
    private static readonly TimeSpan AckTimeout = TimeSpan.FromSeconds(10);

    private readonly ConcurrentDictionary<(string Id, int Seq), TaskCompletionSource> _acks = new();
    private WebApplication? _app;

    private SseUpstream(string name) => Name = name;

    public string Name { get; }

    public int Http1Port { get; private set; }

    public int Http2Port { get; private set; }

    public Uri Http1Url => new($"http://127.0.0.1:{Http1Port}");

    public Uri Http2Url => new($"http://127.0.0.1:{Http2Port}");

    public ConcurrentDictionary<string, StreamRecord> Streams { get; } = new();

    public ConcurrentQueue<RequestRecord> Requests { get; } = new();

    public static async Task<SseUpstream> StartAsync(string name = "upstream")
    {
        var upstream = new SseUpstream(name);
        await upstream.StartOnAsync(0, 0);
        return upstream;
    }

    /// <summary>The test saw event <paramref name="seq"/> of stream <paramref name="id"/>; the next may be written.</summary>
    public void Ack(string id, int seq) => AckSource(id, seq).TrySetResult();

    public async Task StopAsync()
    {
        if (_app is { } app)
        {
            _app = null;
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    /// <summary>Starts again on the same ports. Bounded retries cover a port still being released.</summary>
    public async Task RestartAsync()
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                await StartOnAsync(Http1Port, Http2Port);
                return;
            }
            catch (IOException) when (deadline.Elapsed < TimeSpan.FromSeconds(10))
            {
                await Task.Delay(100);
            }
        }
    }

    public async ValueTask DisposeAsync() => await StopAsync();

    private TaskCompletionSource AckSource(string id, int seq) =>
        _acks.GetOrAdd((id, seq), static _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));

    // Built and started through the gate: see HostStartGate.
    private Task StartOnAsync(int http1Port, int http2Port) => HostStartGate.StartAsync(() => BuildAndStartAsync(http1Port, http2Port));

    private async Task BuildAndStartAsync(int http1Port, int http2Port)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { EnvironmentName = Environments.Production, Args = FileWatching.OffArgs });

        // The test's output folder holds the edge's appsettings.json (with its Kestrel endpoints), and the
        // environment may hold anything: this upstream takes its configuration from code alone.
        builder.Configuration.Sources.Clear();
        builder.Logging.ClearProviders();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(1));
        builder.Services.AddResponseCompression(o =>
        {
            o.EnableForHttps = true;
            o.MimeTypes = [.. ResponseCompressionDefaults.MimeTypes, "text/event-stream"];
        });

        ListenOptions? http1 = null;
        ListenOptions? http2 = null;
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(IPAddress.Loopback, http1Port, o => { o.Protocols = HttpProtocols.Http1; http1 = o; });
            kestrel.Listen(IPAddress.Loopback, http2Port, o => { o.Protocols = HttpProtocols.Http2; http2 = o; });
        });

        var app = builder.Build();
        app.UseResponseCompression();
        app.MapGet("/alive", () => "alive");
        app.MapGet("/", (HttpContext context) =>
        {
            Requests.Enqueue(RequestRecord.From(context));
            return Results.Content("<!doctype html><title>dashboard</title><div id=root></div>", "text/html");
        });
        app.MapGet("/api/echo/{**rest}", async (HttpContext context) =>
        {
            Requests.Enqueue(RequestRecord.From(context));
            if (int.TryParse(context.Request.Query["delay"], out var delay))
            {
                await Task.Delay(delay, context.RequestAborted);
            }

            return Results.Json(new { upstream = Name, protocol = context.Request.Protocol });
        });
        app.MapGet("/api/stream/{name}", ServeStreamAsync);

        try
        {
            await app.StartAsync();
        }
        catch
        {
            // RestartAsync tries again while the port is still held; each failed app is disposed, watchers and all.
            await app.DisposeAsync();
            throw;
        }

        _app = app;
        Http1Port = http1!.IPEndPoint!.Port;
        Http2Port = http2!.IPEndPoint!.Port;
    }

    private async Task ServeStreamAsync(HttpContext context)
    {
        var query = context.Request.Query;
        var id = query["id"].FirstOrDefault() ?? Guid.NewGuid().ToString("N");
        var heartbeat = int.TryParse(query["hb"], out var hb) ? hb : 0;
        var events = int.TryParse(query["events"], out var n) ? n : 0;
        var every = int.TryParse(query["every"], out var e) ? e : 100;
        var ack = query["ack"] == "1";
        var end = query["end"] == "1";
        var padding = int.TryParse(query["size"], out var size) ? new string('x', size) : string.Empty;

        var record = new StreamRecord(id, RequestRecord.From(context));
        Streams[id] = record;
        Requests.Enqueue(record.Request);

        var aborted = context.RequestAborted;
        using var registration = aborted.Register(record.MarkAborted);

        context.Response.ContentType = "text/event-stream";
        context.Response.Headers.CacheControl = "no-cache,no-store";
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();

        try
        {
            await WriteAsync(context, "event: ready\nretry: 1000\ndata: " + Name + "\n\n", aborted);
            for (var seq = 1; seq <= events; seq++)
            {
                if (!ack)
                {
                    await Task.Delay(every, aborted);
                }

                record.EventWritten(seq);
                await WriteAsync(context, $"event: tick\nid: {seq}\ndata: {seq}{padding}\n\n", aborted);
                if (ack && !await WaitForAckAsync(id, seq, aborted))
                {
                    await WriteAsync(context, $"event: nack\ndata: {seq}\n\n", aborted);
                    return;
                }
            }

            for (var beat = 1; !end; beat++)
            {
                await Task.Delay(heartbeat > 0 ? heartbeat : Timeout.Infinite, aborted);
                await WriteAsync(context, $"event: heartbeat\ndata: {beat}\n\n", aborted);
            }

            record.MarkCompleted();
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            // The client (the edge) went away; the record says when.
        }
    }

    private async Task<bool> WaitForAckAsync(string id, int seq, CancellationToken aborted)
    {
        try
        {
            await AckSource(id, seq).Task.WaitAsync(AckTimeout, aborted);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    private static async Task WriteAsync(HttpContext context, string text, CancellationToken cancellationToken)
    {
        await context.Response.Body.WriteAsync(Encoding.UTF8.GetBytes(text), cancellationToken);
        await context.Response.Body.FlushAsync(cancellationToken);
    }
}

public sealed record RequestRecord(string Path, string QueryString, string Protocol, IReadOnlyDictionary<string, string> Headers)
{
    public static RequestRecord From(HttpContext context) => new(
        context.Request.Path,
        context.Request.QueryString.Value ?? string.Empty,
        context.Request.Protocol,
        context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase));
}

public sealed class StreamRecord(string id, RequestRecord request)
{
    private readonly TaskCompletionSource<long> _aborted = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ConcurrentDictionary<int, long> _written = new();

    public string Id => id;

    public RequestRecord Request => request;

    /// <summary>Completes with the <see cref="Stopwatch"/> timestamp at which the request was aborted.</summary>
    public Task<long> Aborted => _aborted.Task;

    public bool Completed { get; private set; }

    public long WrittenAt(int seq) => _written[seq];

    internal void EventWritten(int seq) => _written[seq] = Stopwatch.GetTimestamp();

    internal void MarkAborted() => _aborted.TrySetResult(Stopwatch.GetTimestamp());

    internal void MarkCompleted() => Completed = true;
}
