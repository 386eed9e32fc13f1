using System.Collections.Concurrent;

namespace AppHost.Hosting;

public sealed record LogLine(string ResourceName, string InstanceId, bool IsErrorStream, string Text);

/// <summary>
/// Every line each resource wrote, kept in memory (bounded per resource) so failures can show the
/// last lines and tests can read what a process printed.
/// </summary>
public sealed class ResourceLoggerService
{
    private const int MaxLinesPerResource = 20_000;
    private readonly ConcurrentDictionary<string, ConcurrentQueue<LogLine>> _lines = new(StringComparer.Ordinal);

    public event Action<LogLine>? LineWritten;

    public IReadOnlyList<LogLine> GetLines(string resourceName) =>
        _lines.TryGetValue(resourceName, out var queue) ? [.. queue] : [];

    public IReadOnlyList<LogLine> GetAllLines() => [.. _lines.Values.SelectMany(q => q)];

    internal void Write(LogLine line)
    {
        var queue = _lines.GetOrAdd(line.ResourceName, _ => new ConcurrentQueue<LogLine>());
        queue.Enqueue(line);
        while (queue.Count > MaxLinesPerResource && queue.TryDequeue(out _))
        {
        }

        LineWritten?.Invoke(line);
    }
}
