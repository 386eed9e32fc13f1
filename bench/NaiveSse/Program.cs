// The naive peer, as most "SSE in ASP.NET Core" tutorials write it: one endpoint, one loop per client that builds
// the sample, serializes it, writes it, flushes and sleeps. Nothing is shared between clients: N clients mean N
// timers, N samples and N serializations per interval. Deliberately not optimized; do not "fix" it, it is the
// baseline the product is measured against (bench/README.md).
//
// Configuration (environment variables): IntervalMs (default 1000), the Kestrel endpoints, and
// Kestrel__Limits__Http2__MaxStreamsPerConnection (bound below) so that every HTTP/2 target in the benchmark gets
// the same number of streams per connection.
var builder = WebApplication.CreateBuilder(args);
builder.Services.Configure<Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions>(builder.Configuration.GetSection("Kestrel"));
var app = builder.Build();

var interval = TimeSpan.FromMilliseconds(app.Configuration.GetValue("IntervalMs", 1000.0));

app.MapGet("/sse", async (HttpContext context, CancellationToken cancellationToken) =>
{
    context.Response.Headers.ContentType = "text/event-stream";
    context.Response.Headers.CacheControl = "no-cache";

    while (!cancellationToken.IsCancellationRequested)
    {
        var sample = new
        {
            timestamp = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
            instanceId = Environment.MachineName,
            process = new
            {
                cpuPercent = 0.0,
                workingSetBytes = Environment.WorkingSet,
                gcHeapBytes = GC.GetTotalMemory(false),
                allocatedBytes = GC.GetTotalAllocatedBytes(),
                threadPoolQueueLength = ThreadPool.PendingWorkItemCount,
                threadPoolThreads = ThreadPool.ThreadCount,
            },
            host = new { source = "proc", cpuPercent = 0.0, cpuLimitCores = Environment.ProcessorCount, memoryUsedBytes = 0L, memoryLimitBytes = 0L },
            streams = new { open = 0, users = 0, eventsPerSecond = 0.0 },
        };
        var json = System.Text.Json.JsonSerializer.Serialize(sample);
        await context.Response.WriteAsync($"event: metrics\ndata: {json}\n\n", cancellationToken);
        await context.Response.Body.FlushAsync(cancellationToken);
        await Task.Delay(interval, cancellationToken);
    }
});

app.MapGet("/", () => "naive SSE server: GET /sse");

app.Run();
