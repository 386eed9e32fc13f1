namespace LoadTool.Load;

/// <summary>What opening streams gave (one worker; the suite merges several).</summary>
public sealed record OpenReport
{
    public int Attempted { get; init; }

    public int Open { get; init; }

    public Dictionary<string, int> Failures { get; init; } = [];

    public Dictionary<string, int> Drops { get; init; } = [];

    public double Seconds { get; init; }

    public long[][] TimeToFirstFrameMicroseconds { get; init; } = [];

    public int Connections { get; init; }

    public long ClientRssBytes { get; init; }
}

/// <summary>One measurement window (one worker).</summary>
public sealed record MeasureReport
{
    public double WindowSeconds { get; init; }

    /// <summary>Data events delivered inside the window, over every stream.</summary>
    public long Events { get; init; }

    public long DataBytes { get; init; }

    /// <summary>Data events without a parsable <c>"timestamp":</c> (not in the latency figures).</summary>
    public long UntimedEvents { get; init; }

    public long[][] LatencyMicroseconds { get; init; } = [];

    public int OpenAtStart { get; init; }

    public int OpenAtEnd { get; init; }

    public int DroppedInWindow { get; init; }

    public Dictionary<string, int> Drops { get; init; } = [];

    public double ClientCpuSeconds { get; init; }

    public long ClientRssBytes { get; init; }
}

/// <summary>Open/close cycles (one worker).</summary>
public sealed record ChurnReport
{
    public int Requested { get; init; }

    public int Attempted { get; init; }

    public int Completed { get; init; }

    public Dictionary<string, int> Failures { get; init; } = [];

    public double Seconds { get; init; }

    public bool TimedOut { get; init; }

    public long[][] TimeToFirstFrameMicroseconds { get; init; } = [];

    public int Connections { get; init; }

    public double ClientCpuSeconds { get; init; }
}
