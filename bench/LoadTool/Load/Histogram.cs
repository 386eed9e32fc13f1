using System.Numerics;

namespace LoadTool.Load;

/// <summary>
/// A log-linear histogram of non-negative values (microseconds here): exact below 128, then 64 sub-buckets per
/// power of two, so every recorded value is within 1.6 % of its bucket's bounds. Fixed size, no allocation per
/// value, mergeable; not thread-safe (each thread records into its own, see <see cref="Recorder"/>).
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
        if (value > Max)
        {
            Max = value;
        }
    }

    public void Clear()
    {
        Array.Clear(_counts);
        Count = 0;
        Max = 0;
    }

    public void Add(Histogram other)
    {
        for (var i = 0; i < BucketCount; i++)
        {
            _counts[i] += other._counts[i];
        }

        Count += other.Count;
        Max = Math.Max(Max, other.Max);
    }

    /// <summary>The non-empty buckets as [index, count] pairs, for JSON.</summary>
    public long[][] ToSparse()
    {
        var list = new List<long[]>();
        for (var i = 0; i < BucketCount; i++)
        {
            if (_counts[i] != 0)
            {
                list.Add([i, _counts[i]]);
            }
        }

        list.Add([-1, Max]); // the exact maximum rides along
        return [.. list];
    }

    public static Histogram FromSparse(long[][]? sparse)
    {
        var histogram = new Histogram();
        foreach (var pair in sparse ?? [])
        {
            if (pair[0] < 0)
            {
                histogram.Max = Math.Max(histogram.Max, pair[1]);
                continue;
            }

            histogram._counts[pair[0]] += pair[1];
            histogram.Count += pair[1];
        }

        return histogram;
    }

    /// <summary>The value at quantile <paramref name="q"/> (0..1): the upper bound of the bucket that holds it, capped at the maximum.</summary>
    public double Quantile(double q)
    {
        if (Count == 0)
        {
            return double.NaN;
        }

        var rank = Math.Max(1, (long)Math.Ceiling(q * Count));
        long seen = 0;
        for (var i = 0; i < BucketCount; i++)
        {
            seen += _counts[i];
            if (seen >= rank)
            {
                return Math.Min(UpperBound(i), Max);
            }
        }

        return Max;
    }

    public double Mean()
    {
        if (Count == 0)
        {
            return double.NaN;
        }

        double sum = 0;
        for (var i = 0; i < BucketCount; i++)
        {
            if (_counts[i] != 0)
            {
                sum += _counts[i] * ((LowerBound(i) + UpperBound(i)) / 2.0);
            }
        }

        return sum / Count;
    }

    internal static int Index(long value)
    {
        if (value < 128)
        {
            return value < 0 ? 0 : (int)value;
        }

        var magnitude = 63 - BitOperations.LeadingZeroCount((ulong)value);
        var shift = magnitude - 6;
        var index = (shift * 64) + (int)(value >> shift);
        return Math.Min(index, BucketCount - 1);
    }

    internal static long LowerBound(int index)
    {
        if (index < 128)
        {
            return index;
        }

        var shift = (index / 64) - 1;
        var sub = index - (shift * 64);
        return (long)sub << shift;
    }

    internal static long UpperBound(int index)
    {
        if (index < 128)
        {
            return index;
        }

        var shift = (index / 64) - 1;
        var sub = index - (shift * 64);
        return ((long)(sub + 1) << shift) - 1;
    }
}
