using Fanout;

// Usage: Fanout [inproc] [http] [--subscribers 1000,10000] [--client httpclient,framereader] [--streams-per-connection 5000]
// Each scenario is bounded (about two minutes at most, most of it the warm-up); results go to stdout as a markdown table.
var runInProcess = args.Length == 0 || args.Contains("inproc");
var runHttp = args.Length == 0 || args.Contains("http");
var sizes = args.SkipWhile(a => a != "--subscribers").Skip(1).FirstOrDefault()?.Split(',').Select(int.Parse).ToArray() ?? [1_000, 10_000];
var clients = args.SkipWhile(a => a != "--client").Skip(1).FirstOrDefault()?.Split(',').Select(c => Enum.Parse<StreamClient>(c, ignoreCase: true)).ToArray()
    ?? [StreamClient.HttpClient, StreamClient.FrameReader];
// The default is Metrics.Api's own Http2MaxStreamsPerConnection: the edge's SocketsHttpHandler fills a connection up to
// the limit the server advertises before it opens another, so 10,000 streams reach the API over 2 connections.
var streamsPerConnection = int.Parse(
    args.SkipWhile(a => a != "--streams-per-connection").Skip(1).FirstOrDefault() ?? "5000", System.Globalization.CultureInfo.InvariantCulture);

var results = new List<Result>();
if (runInProcess)
{
    foreach (var subscribers in sizes)
    {
        results.Add(await InProcessScenario.RunAsync(subscribers));
    }
}

if (runHttp)
{
    foreach (var subscribers in sizes)
    {
        // 1 event/s is the product's rate (the target: p99 < 50 ms at 10k); 10/s is the sampler's fastest.
        foreach (var client in clients)
        {
            results.Add(await HttpScenario.RunAsync(subscribers, eventsPerSecond: 1, client, streamsPerConnection));
            results.Add(await HttpScenario.RunAsync(subscribers, eventsPerSecond: 10, client, streamsPerConnection));
        }
    }
}

Console.WriteLine();
Console.WriteLine($"Machine: {Environment.ProcessorCount} cores, .NET {Environment.Version}, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}");
Console.WriteLine();
Console.WriteLine(Result.TableHeader);
foreach (var result in results)
{
    Console.WriteLine(result.ToTableRow());
}

Console.WriteLine();
Console.WriteLine(Result.Notes);
