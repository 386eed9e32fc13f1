using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace LoadTool;

/// <summary>The usage text and the hop scenario's emitter.</summary>
public static class Commands
{
    public const string Usage = """
        LoadTool: SSE subscriptions under load, and the benchmark suite (bench/README.md).

        LoadTool suite  [--quick] [--targets edge,api,nchan-h1,nchan-h2,naive (default); edge-redis on request] [--scenarios w1,w2,w3]
                        [--repo DIR] [--results DIR] [--doc FILE] [--profile] [--api-env KEY=VALUE]... [--edge-env KEY=VALUE]...
            Runs every scenario against every target (servers started and stopped by the suite), writes docs/benchmarks.md.
            Scenarios: w1 capacity, w2 fan-out, w3 churn (the default), and on request fanout (Metrics.Api's fan-out over
            HTTP/2), inproc (the hub in process), hop (the edge hop, direct vs through Edge.Proxy). Sizes (full / --quick):
              --w1-streams 1000,5000,10000,20000 / 200,1000     --w1-seconds 20 / 4   --redis-w1-streams 20000 / 2000 (edge-redis, W1 only)
              --w2-streams 1000 / 200   --w2-rates 10,25,50,100,200,400 / 10,100   --w2-seconds 15 / 4
              --w3-cycles 10000 / 1000  --w3-concurrency 200 / 50  --w3-idle-seconds 15 / 4  --w3-limit-seconds 240 / 12
              --fanout-streams 1000,10000 / 200  --fanout-rates 1,10  --fanout-events 30 / 5 (measured, ≥ 12 / 4 s)  --hop-streams 100
              --hop-seconds 10 / 4  --hop-interval-ms 250  --settle-seconds 3 / 2  --open-timeout 60 / 10  --open-concurrency 200
              --warmup-events 70 / 5    events each scenario's server publishes while warm-up streams are open, before
                                        anything is measured (tiered JIT: ~65 events to the final code of per-event paths)
              --streams-per-connection 500  --streams-per-user 5  --auth bearer|none  --api-environment Development  --profile-seconds 10 / 4
        LoadTool report --results DIR [--doc FILE]: rewrites the document from a results folder.

        """;

    /// <summary>
    /// The hop scenario's upstream: HTTP/1.1 and h2c endpoints on 127.0.0.1 (printed in that order), <c>/alive</c>, and
    /// <c>/api/stream/bench</c>: a comment, then one event per interval whose data is <c>{"timestamp":unix ms with µs}</c>.
    /// </summary>
    public static async Task<int> EmitAsync(Cli cli)
    {
        var interval = TimeSpan.FromMilliseconds(cli.IntValue("--interval-ms", 250, 1));
        cli.EnsureAllUsed();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        var endpoints = new List<ListenOptions>();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Limits.Http2.MaxStreamsPerConnection = 10_000;
            foreach (var protocols in new[] { HttpProtocols.Http1, HttpProtocols.Http2 })
            {
                kestrel.Listen(IPAddress.Loopback, 0, o =>
                {
                    o.Protocols = protocols;
                    endpoints.Add(o);
                });
            }
        });
        var app = builder.Build();
        app.MapGet("/alive", () => "alive");
        app.MapGet("/api/stream/bench", async (HttpContext context) =>
        {
            context.Response.ContentType = "text/event-stream";
            context.Response.Headers.CacheControl = "no-cache";
            try
            {
                await context.Response.WriteAsync(": ready\n\n", context.RequestAborted);
                using var timer = new PeriodicTimer(interval); // streams start at different moments: events spread over the interval
                while (await timer.WaitForNextTickAsync(context.RequestAborted))
                {
                    var ms = (DateTime.UtcNow - DateTime.UnixEpoch).Ticks / 10 / 1000.0;
                    await context.Response.WriteAsync(string.Create(CultureInfo.InvariantCulture, $"event: metrics\ndata: {{\"timestamp\":{ms:F3}}}\n\n"), context.RequestAborted);
                }
            }
            catch (OperationCanceledException)
            {
            }
        });
        await app.StartAsync();
        foreach (var endpoint in endpoints) Console.WriteLine($"Now listening on: http://127.0.0.1:{endpoint.IPEndPoint!.Port}");

        Console.WriteLine("Application started.");
        await app.WaitForShutdownAsync();
        return 0;
    }
}
