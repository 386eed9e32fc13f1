using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EdgeHop;

/// <summary>
/// The upstream SSE emitter: an HTTP/1.1 and an HTTP/2-only (h2c) endpoint on 127.0.0.1. Each event's data is the
/// <see cref="Stopwatch"/> timestamp at which it was written; the client, in this same process, subtracts it.
/// </summary>
internal sealed class Emitter : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ListenOptions _http1;
    private readonly ListenOptions _http2;

    private Emitter(WebApplication app, ListenOptions http1, ListenOptions http2)
    {
        _app = app;
        _http1 = http1;
        _http2 = http2;
    }

    public Uri Http1Url => new($"http://127.0.0.1:{_http1.IPEndPoint!.Port}");

    public Uri Http2Url => new($"http://127.0.0.1:{_http2.IPEndPoint!.Port}");

    public static async Task<Emitter> StartAsync(TimeSpan interval)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Configuration.Sources.Clear();
        builder.Logging.ClearProviders();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(1));

        ListenOptions? http1 = null;
        ListenOptions? http2 = null;
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            // Direct HTTP/2 puts every stream on one connection, as a browser would.
            kestrel.Limits.Http2.MaxStreamsPerConnection = 10_000;
            kestrel.Listen(IPAddress.Loopback, 0, o => { o.Protocols = HttpProtocols.Http1; http1 = o; });
            kestrel.Listen(IPAddress.Loopback, 0, o => { o.Protocols = HttpProtocols.Http2; http2 = o; });
        });

        var app = builder.Build();
        app.MapGet("/alive", () => "alive");
        app.MapGet("/api/stream/bench", (HttpContext context) => EmitAsync(context, interval));
        await app.StartAsync();
        return new Emitter(app, http1!, http2!);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private static async Task EmitAsync(HttpContext context, TimeSpan interval)
    {
        context.Response.ContentType = "text/event-stream";
        context.Response.Headers.CacheControl = "no-cache,no-store";
        var aborted = context.RequestAborted;
        try
        {
            await WriteAsync(context, "event: ready\ndata: 0\n\n", aborted);

            // Streams start at different moments, so their events spread over the interval.
            using var timer = new PeriodicTimer(interval);
            while (await timer.WaitForNextTickAsync(aborted))
            {
                var now = Stopwatch.GetTimestamp().ToString(CultureInfo.InvariantCulture);
                await WriteAsync(context, "data: " + now + "\n\n", aborted);
            }
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
        }
    }

    private static async Task WriteAsync(HttpContext context, string text, CancellationToken cancellationToken)
    {
        await context.Response.Body.WriteAsync(Encoding.UTF8.GetBytes(text), cancellationToken);
        await context.Response.Body.FlushAsync(cancellationToken);
    }
}
