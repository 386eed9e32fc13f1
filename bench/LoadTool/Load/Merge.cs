namespace LoadTool.Load;

/// <summary>Adds up the reports of several worker processes into one.</summary>
public static class Merge
{
    public static OpenReport Open(IReadOnlyList<OpenReport> reports) => new()
    {
        Attempted = reports.Sum(r => r.Attempted),
        Open = reports.Sum(r => r.Open),
        Failures = Causes(reports.Select(r => r.Failures)),
        Drops = Causes(reports.Select(r => r.Drops)),
        Seconds = reports.Count == 0 ? 0 : reports.Max(r => r.Seconds),
        TimeToFirstFrameMicroseconds = Histograms(reports.Select(r => r.TimeToFirstFrameMicroseconds)),
        Connections = reports.Sum(r => r.Connections),
        ClientRssBytes = reports.Sum(r => r.ClientRssBytes),
    };

    public static MeasureReport Measure(IReadOnlyList<MeasureReport> reports) => new()
    {
        WindowSeconds = reports.Count == 0 ? 0 : reports.Average(r => r.WindowSeconds),
        Events = reports.Sum(r => r.Events),
        DataBytes = reports.Sum(r => r.DataBytes),
        UntimedEvents = reports.Sum(r => r.UntimedEvents),
        LatencyMicroseconds = Histograms(reports.Select(r => r.LatencyMicroseconds)),
        OpenAtStart = reports.Sum(r => r.OpenAtStart),
        OpenAtEnd = reports.Sum(r => r.OpenAtEnd),
        DroppedInWindow = reports.Sum(r => r.DroppedInWindow),
        Drops = Causes(reports.Select(r => r.Drops)),
        ClientCpuSeconds = reports.Sum(r => r.ClientCpuSeconds),
        ClientRssBytes = reports.Sum(r => r.ClientRssBytes),
    };

    public static ChurnReport Churn(IReadOnlyList<ChurnReport> reports) => new()
    {
        Requested = reports.Sum(r => r.Requested),
        Attempted = reports.Sum(r => r.Attempted),
        Completed = reports.Sum(r => r.Completed),
        Failures = Causes(reports.Select(r => r.Failures)),
        Seconds = reports.Count == 0 ? 0 : reports.Max(r => r.Seconds),
        TimedOut = reports.Any(r => r.TimedOut),
        TimeToFirstFrameMicroseconds = Histograms(reports.Select(r => r.TimeToFirstFrameMicroseconds)),
        Connections = reports.Sum(r => r.Connections),
        ClientCpuSeconds = reports.Sum(r => r.ClientCpuSeconds),
    };

    public static Dictionary<string, int> Causes(IEnumerable<Dictionary<string, int>> all)
    {
        var total = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var causes in all)
        {
            foreach (var (cause, count) in causes)
            {
                total[cause] = total.GetValueOrDefault(cause) + count;
            }
        }

        return total;
    }

    public static long[][] Histograms(IEnumerable<long[][]> all)
    {
        var total = new Histogram();
        foreach (var sparse in all)
        {
            total.Add(Histogram.FromSparse(sparse));
        }

        return total.ToSparse();
    }
}
