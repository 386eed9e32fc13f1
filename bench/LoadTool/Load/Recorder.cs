namespace LoadTool.Load;

/// <summary>
/// Where every stream records its delivered events during a measurement window: one shard per thread (no locks, no
/// shared cache lines on the hot path), summed when the window closes.
/// </summary>
public static class Recorder
{
    private static readonly List<Shard> s_shards = [];
    [ThreadStatic]
    private static Shard? t_shard;
    private static volatile bool s_recording;

    public static bool IsRecording => s_recording;

    /// <summary>Clears every shard and starts recording.</summary>
    public static void Start()
    {
        s_recording = false;
        lock (s_shards)
        {
            foreach (var shard in s_shards)
            {
                shard.Clear();
            }
        }

        s_recording = true;
    }

    public static void Stop() => s_recording = false;

    /// <summary>One delivered data event: its latency in microseconds (negative when it carried no timestamp) and its data size.</summary>
    public static void Record(long latencyMicroseconds, int dataBytes)
    {
        if (!s_recording)
        {
            return;
        }

        var shard = t_shard ??= Register();
        shard.Events++;
        shard.DataBytes += dataBytes;
        if (latencyMicroseconds >= 0)
        {
            shard.Latency.Record(latencyMicroseconds);
        }
        else
        {
            shard.Untimed++;
        }
    }

    /// <summary>The sum of every shard (call after <see cref="Stop"/>).</summary>
    public static (long Events, long DataBytes, long Untimed, Histogram Latency) Collect()
    {
        var total = new Histogram();
        long events = 0, bytes = 0, untimed = 0;
        lock (s_shards)
        {
            foreach (var shard in s_shards)
            {
                total.Add(shard.Latency);
                events += shard.Events;
                bytes += shard.DataBytes;
                untimed += shard.Untimed;
            }
        }

        return (events, bytes, untimed, total);
    }

    private static Shard Register()
    {
        var shard = new Shard();
        lock (s_shards)
        {
            s_shards.Add(shard);
        }

        return shard;
    }

    private sealed class Shard
    {
        public Histogram Latency { get; } = new();

        public long Events;
        public long DataBytes;
        public long Untimed;

        public void Clear()
        {
            Latency.Clear();
            Events = 0;
            DataBytes = 0;
            Untimed = 0;
        }
    }
}
