using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;

namespace LoadTool.Suite;

/// <summary>
/// Publishes to nchan at a fixed rate (absolute schedule: a late tick publishes every event that has come due), one
/// HTTP POST per event over a kept-alive connection. The payload has the shape and size of Metrics.Api's
/// <c>metrics</c> event, with <c>"timestamp"</c> (unix ms) written just before the POST.
/// </summary>
public sealed class NchanPublisher : IAsyncDisposable
{
    private readonly HttpClient _client = new(new SocketsHttpHandler { UseProxy = false, PooledConnectionIdleTimeout = TimeSpan.FromMinutes(10) });
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly Uri _url;
    private readonly double _rate;
    private long _published;
    private long _failed;

    public NchanPublisher(Uri url, double rate)
    {
        _url = url;
        _rate = rate;
        _loop = Task.Run(RunAsync);
    }

    public long Published => Interlocked.Read(ref _published);

    public long Failed => Interlocked.Read(ref _failed);

    /// <summary>A Metrics.Api-shaped sample (same fields, realistic values, ~390 bytes).</summary>
    public static string Payload(long timestamp, long sequence) => string.Create(CultureInfo.InvariantCulture,
        $$$"""{"timestamp":{{{timestamp}}},"instanceId":"nchan","process":{"cpuPercent":{{{(sequence % 997) / 10.0:F2}}},"workingSetBytes":{{{100_425_728 + (sequence % 4096)}}},"gcHeapBytes":{{{3_021_776 + (sequence % 65536)}}},"allocatedBytes":{{{9_327_128 + (sequence * 512)}}},"threadPoolQueueLength":0,"threadPoolThreads":3},"host":{"source":"proc","cpuPercent":{{{(sequence % 89) / 10.0:F1}}},"cpuLimitCores":2,"memoryUsedBytes":3468103680,"memoryLimitBytes":25276502016},"streams":{"open":1000,"users":200,"eventsPerSecond":{{{sequence % 1000}}}.5}}""");

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop.ContinueWith(static _ => { }, TaskScheduler.Default);
        _client.Dispose();
        _stop.Dispose();
    }

    private async Task RunAsync()
    {
        var start = Stopwatch.GetTimestamp();
        long sequence = 0;
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var due = (long)(Stopwatch.GetElapsedTime(start).TotalSeconds * _rate) + 1;
                for (; sequence < due && !_stop.IsCancellationRequested; sequence++)
                {
                    var timestamp = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
                    using var content = new StringContent(Payload(timestamp, sequence));
                    content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                    try
                    {
                        using var response = await _client.PostAsync(_url, content, _stop.Token);
                        Interlocked.Increment(ref response.IsSuccessStatusCode ? ref _published : ref _failed);
                    }
                    catch (HttpRequestException)
                    {
                        Interlocked.Increment(ref _failed);
                    }
                }

                var next = TimeSpan.FromSeconds(sequence / _rate) - Stopwatch.GetElapsedTime(start);
                await Task.Delay(next > TimeSpan.Zero ? next : TimeSpan.Zero, _stop.Token);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}
