using Fanout;

// Usage: Fanout [inproc] [http] [--subscribers 1000,10000] [--client httpclient,framereader]
// Each scenario is bounded (about a minute at most); results go to stdout as a markdown table.
var runInProcess = args.Length == 0 || args.Contains("inproc");
var runHttp = args.Length == 0 || args.Contains("http");
var sizes = args.SkipWhile(a => a != "--subscribers").Skip(1).FirstOrDefault()?.Split(',').Select(int.Parse).ToArray() ?? [1_000, 10_000];
var clients = args.SkipWhile(a => a != "--client").Skip(1).FirstOrDefault()?.Split(',').Select(c => Enum.Parse<StreamClient>(c, ignoreCase: true)).ToArray()
    ?? [StreamClient.HttpClient, StreamClient.FrameReader];

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
            results.Add(await HttpScenario.RunAsync(subscribers, eventsPerSecond: 1, client));
            results.Add(await HttpScenario.RunAsync(subscribers, eventsPerSecond: 10, client));
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
