using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.ServerSentEvents;
using System.Net.Sockets;
using EdgeHop;

// Added latency and memory per stream of the edge hop, direct versus through Edge.Proxy, HTTP/1.1 versus HTTP/2.
// Every scenario is bounded (under 60 s: openings 2 x 15 s, warm-ups 2 x 2 s, measuring --seconds, at most 20), loopback only.
var streams = IntArgument(args, "--streams", 100, 1, 500);
var seconds = IntArgument(args, "--seconds", 10, 1, 20);
var interval = TimeSpan.FromMilliseconds(IntArgument(args, "--interval-ms", 250, 20, 5000));

Console.WriteLine($"EdgeHop: {streams} streams per scenario, one event per stream every {interval.TotalMilliseconds} ms, measured for {seconds} s.");
Console.WriteLine($"{Environment.ProcessorCount} cores, .NET {Environment.Version}.");

await using var emitter = await Emitter.StartAsync(interval);
var results = new List<Result>();

results.Add(await Scenario.RunAsync("direct", Protocol.Http11, emitter.Http1Url, edge: null, streams, seconds));
results.Add(await Scenario.RunAsync("direct", Protocol.H2c, emitter.Http2Url, edge: null, streams, seconds));
foreach (var protocol in (Protocol[])[Protocol.Http11, Protocol.H2c, Protocol.H2Tls])
{
    // A fresh edge per scenario, so one scenario's heap does not hide the next one's growth.
    await using var edge = await EdgeProcess.StartAsync(emitter);
    var url = protocol switch { Protocol.Http11 => edge.HttpUrl, Protocol.H2c => edge.H2cUrl, _ => edge.HttpsUrl };
    results.Add(await Scenario.RunAsync("edge", protocol, url, edge, streams, seconds));
}

Console.WriteLine();
Console.WriteLine("| Path | Client protocol | Connections | Streams | Events | p50 ms | p90 ms | p99 ms | max ms | Edge RSS per stream |");
Console.WriteLine("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
foreach (var r in results)
{
    var memory = r.EdgeBytesPerStream is { } bytes ? $"{bytes / 1024.0:F1} KiB" : "n/a (no hop)";
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"| {r.Path} | {Describe(r.Protocol)} | {r.Connections} | {r.Streams} | {r.Events} | {r.P50:F2} | {r.P90:F2} | {r.P99:F2} | {r.Max:F2} | {memory} |"));
}

Console.WriteLine();
Console.WriteLine("| Added by the edge hop | p50 ms | p99 ms |");
Console.WriteLine("|---|---:|---:|");
var directH1 = results.Single(r => r.Path == "direct" && r.Protocol == Protocol.Http11);
var directH2 = results.Single(r => r.Path == "direct" && r.Protocol == Protocol.H2c);
foreach (var r in results.Where(r => r.Path == "edge"))
{
    var direct = r.Protocol == Protocol.Http11 ? directH1 : directH2;
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"| {Describe(r.Protocol)} via edge vs direct {Describe(direct.Protocol)} | {r.P50 - direct.P50:+0.00;-0.00} | {r.P99 - direct.P99:+0.00;-0.00} |"));
}

return 0;

static string Describe(Protocol protocol) => protocol switch
{
    Protocol.Http11 => "HTTP/1.1",
    Protocol.H2c => "HTTP/2 (h2c)",
    _ => "HTTP/2 (TLS)",
};

static int IntArgument(string[] args, string name, int fallback, int min, int max)
{
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length && int.TryParse(args[index + 1], CultureInfo.InvariantCulture, out var value)
        ? Math.Clamp(value, min, max)
        : fallback;
}

internal enum Protocol
{
    Http11,
    H2c,
    H2Tls,
}

internal sealed record Result(string Path, Protocol Protocol, int Streams, int Connections, int Events, double P50, double P90, double P99, double Max, double? EdgeBytesPerStream);

internal static class Scenario
{
    private static readonly TimeSpan OpenTimeout = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan WarmUp = TimeSpan.FromSeconds(2);

    public static async Task<Result> RunAsync(string path, Protocol protocol, Uri baseUrl, EdgeProcess? edge, int streams, int seconds)
    {
        Console.Write($"{path,-6} {protocol,-6} ... ");
        var connections = 0;
        using var client = CreateClient(protocol, () => Interlocked.Increment(ref connections));
        // Hard bound for the whole scenario: two openings, two warm-ups, the measurement and 5 s to spare (under 60 s).
        using var stop = new CancellationTokenSource((OpenTimeout + WarmUp) * 2 + TimeSpan.FromSeconds(seconds + 5));
        var url = new Uri(baseUrl, "/api/stream/bench");

        // Warm the path (JIT, connection, YARP's client), then let the edge settle before reading its memory.
        await using (var warm = await OpenAsync(client, protocol, url, stop.Token))
        {
        }

        // Memory is read with half and with all of the streams open: the slope is the cost of one more stream,
        // without the one-off costs (first connection, JIT, pools) that the first streams pay.
        var half = streams / 2;
        var recording = 0;
        var latencies = new List<double>[streams];
        var open = new SemaphoreSlim(0);
        var readers = new List<Task>(streams);
        long? halfBytes = null;
        for (var i = 0; i < streams; i++)
        {
            if (i == half)
            {
                await WaitOpenAsync(open, half, stop.Token);
                await Task.Delay(WarmUp, stop.Token);
                halfBytes = edge?.ResidentBytes();
            }

            var index = i;
            latencies[index] = new List<double>(capacity: seconds * 10);
            readers.Add(ReadAsync(client, protocol, url, open, latencies[index], () => Volatile.Read(ref recording) == 1, stop.Token));
        }

        await WaitOpenAsync(open, streams - half, stop.Token);
        await Task.Delay(WarmUp, stop.Token);
        var fullBytes = edge?.ResidentBytes();
        Volatile.Write(ref recording, 1);
        await Task.Delay(TimeSpan.FromSeconds(seconds), stop.Token);
        Volatile.Write(ref recording, 0);
        await stop.CancelAsync();
        try
        {
            await Task.WhenAll(readers);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or HttpRequestException)
        {
            // Streams torn down on purpose.
        }

        var all = latencies.SelectMany(l => l).Order().ToArray();
        var result = new Result(path, protocol, streams, Volatile.Read(ref connections), all.Length,
            Percentile(all, 0.50), Percentile(all, 0.90), Percentile(all, 0.99), all.Length > 0 ? all[^1] : double.NaN,
            halfBytes is { } h && fullBytes is { } f ? (double)(f - h) / (streams - half) : null);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{result.Events} events, p50 {result.P50:F2} ms"));
        return result;
    }

    private static async Task ReadAsync(
        HttpClient client, Protocol protocol, Uri url, SemaphoreSlim open, List<double> latencies, Func<bool> recording, CancellationToken cancellationToken)
    {
        await using var stream = await OpenAsync(client, protocol, url, cancellationToken);
        open.Release();
        await foreach (var item in stream.Events.WithCancellation(cancellationToken))
        {
            var received = Stopwatch.GetTimestamp();
            if (recording() && long.TryParse(item.Data, CultureInfo.InvariantCulture, out var written))
            {
                latencies.Add(Stopwatch.GetElapsedTime(written, received).TotalMilliseconds);
            }
        }
    }

    private static async Task WaitOpenAsync(SemaphoreSlim open, int count, CancellationToken cancellationToken)
    {
        for (var i = 0; i < count; i++)
        {
            if (!await open.WaitAsync(OpenTimeout, cancellationToken))
            {
                throw new TimeoutException($"Only {i} of {count} streams opened within {OpenTimeout}.");
            }
        }
    }

    private static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];

    private static async Task<OpenStream> OpenAsync(HttpClient client, Protocol protocol, Uri url, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url)
        {
            Version = protocol == Protocol.Http11 ? HttpVersion.Version11 : HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        response.EnsureSuccessStatusCode();
        var body = await response.Content.ReadAsStreamAsync(cancellationToken);
        var enumerator = SseParser.Create(body).EnumerateAsync(cancellationToken).GetAsyncEnumerator(cancellationToken);
        if (!await enumerator.MoveNextAsync() || enumerator.Current.EventType != "ready")
        {
            throw new InvalidOperationException("The stream did not start with 'ready'.");
        }

        return new OpenStream(response, enumerator);
    }

    private static HttpClient CreateClient(Protocol protocol, Action connected)
    {
        var handler = new SocketsHttpHandler
        {
            UseProxy = false,
            EnableMultipleHttp2Connections = false,
            MaxResponseDrainSize = 0,
            ConnectCallback = async (context, cancellationToken) =>
            {
                connected();
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, _) =>
            certificate is not null && certificate.GetCertHashString() == EdgeProcess.CertificateThumbprint;
        return new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
    }

    /// <summary>A stream whose <c>ready</c> event was read; <see cref="Events"/> continues after it.</summary>
    private sealed class OpenStream(HttpResponseMessage response, IAsyncEnumerator<SseItem<string>> enumerator) : IAsyncDisposable
    {
        public IAsyncEnumerable<SseItem<string>> Events => Rest();

        public async ValueTask DisposeAsync()
        {
            response.Dispose();
            try
            {
                await enumerator.DisposeAsync();
            }
            catch (Exception e) when (e is OperationCanceledException or IOException or HttpRequestException)
            {
            }
        }

        private async IAsyncEnumerable<SseItem<string>> Rest()
        {
            while (await enumerator.MoveNextAsync())
            {
                yield return enumerator.Current;
            }
        }
    }
}
