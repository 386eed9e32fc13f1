namespace Metrics.Api.Streaming;

/// <summary>
/// Every stream's deadline (maximum age, session expiry) on one timer: streams are kept in 100 ms buckets by due
/// time, and the timer is armed for the earliest bucket. Replaces a .NET timer per stream; scheduling and
/// cancelling are O(log buckets), and a stream that ends early leaves its bucket at once (nothing is kept alive).
/// </summary>
/// <remarks>A deadline fires up to one bucket (100 ms) early, never late: a stream ends before the session does.</remarks>
public sealed class StreamDeadlines : IDisposable
{
    private const long Disarmed = long.MaxValue;

    private readonly TimeProvider _timeProvider;
    private readonly long _ticksPerBucket;
    private readonly Lock _lock = new();
    private readonly SortedSet<long> _dueBuckets = [];
    private readonly Dictionary<long, HashSet<StreamSubscription>> _buckets = [];
    private readonly ITimer _timer;
    private long _armedFor = Disarmed;

    public StreamDeadlines(TimeProvider timeProvider)
    {
        _timeProvider = timeProvider;
        _ticksPerBucket = Math.Max(1, timeProvider.TimestampFrequency / 10);
        _timer = timeProvider.CreateTimer(static s => ((StreamDeadlines)s!).EndDueStreams(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Streams with a deadline right now.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _buckets.Values.Sum(b => b.Count);
            }
        }
    }

    /// <summary>Ends <paramref name="subscription"/> for <paramref name="reason"/> after <paramref name="dueIn"/>, replacing its earlier deadline.</summary>
    public void Schedule(StreamSubscription subscription, TimeSpan dueIn, StreamEndReason reason)
    {
        ArgumentNullException.ThrowIfNull(subscription);
        if (dueIn <= TimeSpan.Zero)
        {
            Cancel(subscription);
            subscription.TryEnd(reason);
            return;
        }

        var dueAt = _timeProvider.GetTimestamp() + (long)(dueIn.TotalSeconds * _timeProvider.TimestampFrequency);
        var key = dueAt / _ticksPerBucket;
        lock (_lock)
        {
            RemoveLocked(subscription);
            if (!_buckets.TryGetValue(key, out var bucket))
            {
                _buckets.Add(key, bucket = []);
                _dueBuckets.Add(key);
            }

            bucket.Add(subscription);
            subscription.DeadlineKey = key;
            subscription.DeadlineReason = reason;
            ArmLocked();
        }
    }

    /// <summary>Forgets the stream's deadline, if it has one.</summary>
    public void Cancel(StreamSubscription subscription)
    {
        ArgumentNullException.ThrowIfNull(subscription);
        lock (_lock)
        {
            RemoveLocked(subscription);
        }
    }

    public void Dispose() => _timer.Dispose();

    private void EndDueStreams()
    {
        List<(StreamSubscription Stream, StreamEndReason Reason)> due = [];
        lock (_lock)
        {
            _armedFor = Disarmed;
            var now = _timeProvider.GetTimestamp() / _ticksPerBucket;
            while (_dueBuckets.Count > 0 && _dueBuckets.Min <= now)
            {
                var key = _dueBuckets.Min;
                _dueBuckets.Remove(key);
                _buckets.Remove(key, out var bucket);
                foreach (var subscription in bucket!)
                {
                    subscription.DeadlineKey = null;
                    due.Add((subscription, subscription.DeadlineReason));
                }
            }

            ArmLocked();
        }

        // Ending wakes each stream's writer; nothing here waits.
        foreach (var (stream, reason) in due)
        {
            stream.TryEnd(reason);
        }
    }

    private void RemoveLocked(StreamSubscription subscription)
    {
        if (subscription.DeadlineKey is not { } key)
        {
            return;
        }

        subscription.DeadlineKey = null;
        if (_buckets.TryGetValue(key, out var bucket) && bucket.Remove(subscription) && bucket.Count == 0)
        {
            _buckets.Remove(key);
            _dueBuckets.Remove(key);
        }
    }

    private void ArmLocked()
    {
        if (_dueBuckets.Count == 0)
        {
            return;
        }

        var next = _dueBuckets.Min;
        if (next >= _armedFor)
        {
            return;
        }

        _armedFor = next;
        var dueIn = TimeSpan.FromSeconds((double)((next * _ticksPerBucket) - _timeProvider.GetTimestamp()) / _timeProvider.TimestampFrequency);
        _timer.Change(dueIn > TimeSpan.Zero ? dueIn : TimeSpan.Zero, Timeout.InfiniteTimeSpan);
    }
}
