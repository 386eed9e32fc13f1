using System.Numerics;

namespace LoadTool;

/// <summary>
/// The one percentile implementation: a log-linear histogram (microseconds here), exact below 128, then 64 sub-buckets per
/// power of two (every value within 1.6 % of its bucket's bounds); fixed size, mergeable, one per thread (<see cref="Recorder"/>).
/// </summary>
public sealed class Histogram
{
    public const int BucketCount = 64 * 40 + 128;
    private readonly long[] _counts = new long[BucketCount];

    public long Count { get; private set; }
    public long Max { get; private set; }

    public void Record(long value)
    {
        _counts[Index(value)]++;
        Count++;
        Max = Math.Max(Max, value);
    }

    public void Clear()
    {
        Array.Clear(_counts);
        (Count, Max) = (0, 0);
    }

    public Histogram Add(Histogram other)
    {
        for (var i = 0; i < BucketCount; i++) _counts[i] += other._counts[i];
        (Count, Max) = (Count + other.Count, Math.Max(Max, other.Max));
        return this;
    }

    /// <summary>The non-empty buckets as [index, count] pairs for JSON, and [-1, the exact maximum].</summary>
    public long[][] ToSparse() => [.. Enumerable.Range(0, BucketCount).Where(i => _counts[i] != 0).Select(i => new long[] { i, _counts[i] }), [-1, Max]];

    public static Histogram FromSparse(long[][]? sparse)
    {
        var histogram = new Histogram();
        foreach (var pair in sparse ?? [])
        {
            if (pair[0] < 0)
            {
                histogram.Max = Math.Max(histogram.Max, pair[1]);
            }
            else
            {
                histogram._counts[pair[0]] += pair[1];
                histogram.Count += pair[1];
            }
        }

        return histogram;
    }

    /// <summary>The value at quantile <paramref name="q"/> (0..1): the upper bound of the bucket that holds it, capped at the maximum.</summary>
    public double Quantile(double q)
    {
        var (rank, seen) = (Math.Max(1, (long)Math.Ceiling(q * Count)), 0L);
        for (var i = 0; i < BucketCount && Count > 0; i++)
        {
            if ((seen += _counts[i]) >= rank)
            {
                // Bucket i >= 128 holds [sub << shift, ((sub + 1) << shift) - 1] with shift = i / 64 - 1, sub = i - shift * 64.
                return Math.Min(i < 128 ? i : ((long)(i - (((i / 64) - 1) * 64) + 1) << ((i / 64) - 1)) - 1, Max);
            }
        }

        return Count == 0 ? double.NaN : Max;
    }

    private static int Index(long value)
    {
        if (value < 128) return value < 0 ? 0 : (int)value;
        var shift = 63 - BitOperations.LeadingZeroCount((ulong)value) - 6;
        return Math.Min((shift * 64) + (int)(value >> shift), BucketCount - 1);
    }
}

/// <summary>
/// Where streams record delivered events during a window: one shard per thread (no lock on the hot path), summed at the
/// end; with <see cref="PerEvent"/> also a histogram per event (keyed by its timestamp), for the p99 of one event.
/// </summary>
public static class Recorder
{
    private static readonly List<Shard> s_shards = [];
    [ThreadStatic]
    private static Shard? t_shard;
    private static volatile bool s_recording;
    public static bool PerEvent { get; set; }

    /// <summary>Clears every shard and starts recording.</summary>
    public static void Start()
    {
        s_recording = false;
        lock (s_shards) s_shards.ForEach(s => s.Clear());

        s_recording = true;
    }

    public static void Stop() => s_recording = false;

    /// <summary>One delivered data event: its latency in microseconds (negative without a timestamp), its data size and its key (timestamp).</summary>
    public static void Record(long latencyMicroseconds, int dataBytes, long eventKey)
    {
        if (!s_recording) return;
        var shard = t_shard ??= Register();
        shard.Events++;
        shard.DataBytes += dataBytes;
        if (latencyMicroseconds < 0)
        {
            shard.Untimed++;
            return;
        }

        shard.Latency.Record(latencyMicroseconds);
        if (PerEvent) (shard.ByEvent.TryGetValue(eventKey, out var h) ? h : shard.ByEvent[eventKey] = new()).Record(latencyMicroseconds);
    }

    /// <summary>The sum of every shard (call after <see cref="Stop"/>), and the p99s of the events that at least <paramref name="fullEvent"/> streams got.</summary>
    public static (long Events, long DataBytes, long Untimed, Histogram Latency, double[] EventP99s) Collect(int fullEvent)
    {
        var total = new Histogram();
        var byEvent = new Dictionary<long, Histogram>();
        long events = 0, bytes = 0, untimed = 0;
        lock (s_shards)
        {
            foreach (var shard in s_shards)
            {
                total.Add(shard.Latency);
                (events, bytes, untimed) = (events + shard.Events, bytes + shard.DataBytes, untimed + shard.Untimed);
                foreach (var (key, h) in shard.ByEvent) (byEvent.TryGetValue(key, out var sum) ? sum : byEvent[key] = new()).Add(h);
            }
        }

        return (events, bytes, untimed, total, [.. byEvent.Values.Where(h => h.Count >= fullEvent).Select(h => h.Quantile(0.99)).Order()]);
    }

    private static Shard Register()
    {
        var shard = new Shard();
        lock (s_shards) s_shards.Add(shard);

        return shard;
    }

    private sealed class Shard
    {
        public Histogram Latency { get; } = new();
        public Dictionary<long, Histogram> ByEvent { get; } = [];
        public long Events, DataBytes, Untimed;

        public void Clear()
        {
            (Events, DataBytes, Untimed) = (0, 0, 0);
            Latency.Clear();
            ByEvent.Clear();
        }
    }
}
