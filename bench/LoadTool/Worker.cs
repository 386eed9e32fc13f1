using System.Globalization;
using System.Text.Json;
using LoadTool.Load;

namespace LoadTool;

/// <summary>
/// A load process driven by the suite over stdin/stdout, one command per line:
/// <c>open N</c> → <c>opened {OpenReport}</c>; <c>measure SECONDS</c> → <c>measured {MeasureReport}</c>;
/// <c>churn CYCLES CONCURRENCY LIMIT_SECONDS</c> → <c>churned {ChurnReport}</c>; <c>close</c> (or end of input) →
/// <c>closed</c>, then exit. Several workers split a load when one process cannot hold it (file descriptors).
/// Logs go to stderr; stdout carries only these lines.
/// </summary>
internal static class Worker
{
    public static async Task<int> RunAsync(Cli cli)
    {
        var options = LoadOptions.FromCli(cli);
        cli.EnsureAllUsed();
        await using var engine = new LoadEngine(options);
        var stdout = Console.Out;
        while (await Console.In.ReadLineAsync() is { } line)
        {
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 0)
            {
                continue;
            }

            switch (parts[0])
            {
                case "open":
                    var opened = await engine.OpenAsync(int.Parse(parts[1], CultureInfo.InvariantCulture));
                    await stdout.WriteLineAsync("opened " + JsonSerializer.Serialize(opened, Commands.Json));
                    break;
                case "measure":
                    var window = TimeSpan.FromSeconds(double.Parse(parts[1], CultureInfo.InvariantCulture));
                    var measured = await engine.MeasureAsync(window, CancellationToken.None);
                    await stdout.WriteLineAsync("measured " + JsonSerializer.Serialize(measured, Commands.Json));
                    break;
                case "churn":
                    var churned = await engine.ChurnAsync(
                        int.Parse(parts[1], CultureInfo.InvariantCulture),
                        int.Parse(parts[2], CultureInfo.InvariantCulture),
                        TimeSpan.FromSeconds(double.Parse(parts[3], CultureInfo.InvariantCulture)));
                    await stdout.WriteLineAsync("churned " + JsonSerializer.Serialize(churned, Commands.Json));
                    break;
                case "close":
                    await engine.DisposeAsync();
                    await stdout.WriteLineAsync("closed");
                    return 0;
                default:
                    await Console.Error.WriteLineAsync($"worker: unknown command '{line}'");
                    break;
            }

            await stdout.FlushAsync();
        }

        return 0;
    }
}
