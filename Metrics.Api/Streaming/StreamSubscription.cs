using System.Threading.Tasks.Sources;

namespace Metrics.Api.Streaming;

/// <summary>
/// One open stream on this replica: the events to replay, a bounded queue of live events, and how the stream
/// ended. The first end reason wins; ending wakes the reader, which then writes the farewell instead of the queue.
/// </summary>
/// <remarks>
/// <para>The queue never holds more than <c>QueueCapacity</c> events. When a client falls that far behind, the
/// queue is compacted to the newest event of each source (a metrics sample supersedes the older ones of its
/// replica) and the number skipped is reported with the next batch, which the response announces as a
/// <c>gap</c>. A busy machine therefore makes streams coarser, never disconnects them.</para>
/// <para>A client that reads nothing at all is different: once events have waited longer than
/// <c>StalledStreamTimeout</c> without the response taking any, the stream is cut as a slow consumer.</para>
/// <para>Hand-rolled rather than a <c>Channel</c> per stream: one lock, one small ring that grows only while a
/// client lags, and the reader's wait is this object (no allocation per wait).</para>
/// </remarks>
public sealed class StreamSubscription : IDisposable, IValueTaskSource<bool>, IThreadPoolWorkItem
{
    private const int NotEnded = -1;
    private const int InitialQueueSize = 4;

    private readonly StreamSubscribers _owner;
    private readonly Action? _abortTransport;
    private readonly Lock _lock = new();
    private readonly int _capacity;
    // The writer is woken by a work item on the thread pool's global queue and runs there (this subscription is the
    // work item: no allocation). The core's own asynchronous continuations go to the waker's local queue: a fan-out's
    // 10,000 writers would wait behind the publisher's thread and be stolen one by one.
    private ManualResetValueTaskSourceCore<bool> _wakeUp = new() { RunContinuationsAsynchronously = false };
    private bool _wakeResult;
    private FanOutWave? _wave;
    private StreamEvent[] _ring = new StreamEvent[InitialQueueSize];
    private int _head;
    private int _count;
    private bool _readerWaiting;
    private long _waitingSince;
    private long _skipped;
    private int _endReason = NotEnded;
    private int _disposed;
    private long _sent;

    internal StreamSubscription(
        StreamSubscribers owner,
        SubscriptionRequest request,
        int queueCapacity)
    {
        _owner = owner;
        _abortTransport = request.AbortTransport;
        _capacity = queueCapacity;
        UserId = request.UserId;
        ResumeAfter = request.LastEventId;
        StartTimestamp = owner.TimeProvider.GetTimestamp();
    }

    public string UserId { get; }

    /// <summary>The id the client asked to resume after, if any.</summary>
    public long? ResumeAfter { get; }

    /// <summary>Events published before this subscription that the client missed, oldest first.</summary>
    public IReadOnlyList<StreamEvent> Replay { get; private set; } = [];

    /// <summary>Set when the requested resume point is no longer (or never was) held.</summary>
    public ResumeGap? Gap { get; private set; }

    /// <summary>
    /// The highest id the client has (or gets from <see cref="Replay"/>) when live events start: live events up to
    /// it were registered before the replay was read and are skipped, so none is written twice.
    /// </summary>
    public long? ReplayedThrough { get; private set; }

    public bool IsEnded => Volatile.Read(ref _endReason) != NotEnded;

    public StreamEndReason? EndReason => Volatile.Read(ref _endReason) is var reason and not NotEnded ? (StreamEndReason)reason : null;

    /// <summary>Events written to the client so far.</summary>
    public long SentCount => Volatile.Read(ref _sent);

    internal long StartTimestamp { get; }

    /// <summary>The shard this stream is registered in; set once by the owner.</summary>
    internal object? Shard { get; set; }

    /// <summary>The deadline bucket this stream is in, or null; only touched under the deadlines' lock.</summary>
    internal long? DeadlineKey { get; set; }

    internal StreamEndReason DeadlineReason { get; set; }

    /// <summary>Ends the stream for <paramref name="reason"/> unless it already ended. Never throws, never blocks for long.</summary>
    public bool TryEnd(StreamEndReason reason)
    {
        if (Interlocked.CompareExchange(ref _endReason, (int)reason, NotEnded) != NotEnded)
        {
            return false;
        }

        bool wake;
        lock (_lock)
        {
            wake = _readerWaiting;
            _readerWaiting = false;
        }

        if (wake)
        {
            Wake(false);
        }

        return true;
    }

    /// <summary>
    /// Ends the stream for <paramref name="reason"/> after <paramref name="dueIn"/> (max age, session expiry), on the
    /// process's one deadline timer. One deadline per stream; a later call replaces an earlier one.
    /// </summary>
    public void EndAfter(TimeSpan dueIn, StreamEndReason reason) => _owner.Deadlines.Schedule(this, dueIn, reason);

    /// <summary>
    /// Waits until live events (or a skip notice) can be taken with <see cref="TakeQueued"/>. False once the stream
    /// has ended: queued events are then never written, the farewell is. One reader at a time.
    /// </summary>
    public ValueTask<bool> WaitToReadAsync()
    {
        lock (_lock)
        {
            if (IsEnded)
            {
                return new ValueTask<bool>(false);
            }

            if (_count > 0 || _skipped > 0)
            {
                return new ValueTask<bool>(true);
            }

            _wakeUp.Reset();
            _readerWaiting = true;
            return new ValueTask<bool>(this, _wakeUp.Version);
        }
    }

    /// <summary>Moves every queued event into <paramref name="batch"/>, oldest first.</summary>
    /// <returns>How many events were skipped (superseded while the client lagged) since the last call.</returns>
    public long TakeQueued(List<StreamEvent> batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        lock (_lock)
        {
            for (var i = 0; i < _count; i++)
            {
                var index = (_head + i) % _ring.Length;
                batch.Add(_ring[index]);
                _ring[index] = null!;
            }

            _head = 0;
            _count = 0;
            _waitingSince = 0;
            var skipped = _skipped;
            _skipped = 0;
            if (_ring.Length > InitialQueueSize)
            {
                // A client that caught up gives the memory of its lag back.
                _ring = new StreamEvent[InitialQueueSize];
            }

            return skipped;
        }
    }

    /// <summary>Call after events have been written and flushed to the client.</summary>
    public void RecordSent(int count) => Volatile.Write(ref _sent, _sent + count);

    /// <summary>Leaves the hub, counted by end reason (client_disconnect when nothing else ended it first).</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        TryEnd(StreamEndReason.ClientDisconnect);
        _owner.Deadlines.Cancel(this);
        _owner.Remove(this);
    }

    /// <summary>Sets what the hub found for the resume point. Called once, before the stream is read.</summary>
    internal void SetReplay(IReadOnlyList<StreamEvent> replay, ResumeGap? gap)
    {
        Replay = replay;
        Gap = gap;
        ReplayedThrough = replay.Count > 0 ? replay[^1].Id : gap is null ? ResumeAfter : null;
    }

    /// <summary>
    /// Offers a live event without waiting. <paramref name="now"/> is a <see cref="TimeProvider"/> timestamp. A
    /// waiting reader is woken at once, or added to <paramref name="wave"/> to be woken with its batch.
    /// </summary>
    internal Offer TryEnqueue(StreamEvent streamEvent, long now, long stalledAfterTicks, FanOutWave? wave, out int skipped)
    {
        skipped = 0;
        bool wake;
        lock (_lock)
        {
            if (IsEnded)
            {
                return Offer.Ended;
            }

            if (_count > 0 && _waitingSince != 0 && now - _waitingSince > stalledAfterTicks)
            {
                return Offer.Stalled;
            }

            if (_count == _capacity)
            {
                skipped = KeepNewestPerSource();
                _skipped += skipped;
            }

            if (_count == _ring.Length)
            {
                Grow();
            }

            _ring[(_head + _count) % _ring.Length] = streamEvent;
            if (_count++ == 0)
            {
                _waitingSince = now;
            }

            wake = _readerWaiting;
            _readerWaiting = false;
        }

        if (wake)
        {
            if (wave is null)
            {
                Wake(true);
            }
            else
            {
                wave.Add(this);
            }
        }

        return skipped > 0 ? Offer.Compacted : Offer.Queued;
    }

    /// <summary>Events queued but never written (the stream ended first).</summary>
    internal int UnsentCount
    {
        get
        {
            lock (_lock)
            {
                return _count;
            }
        }
    }

    internal void AbortTransport() => _abortTransport?.Invoke();

    /// <summary>Drops every queued event a newer one of the same source supersedes, and every heartbeat.</summary>
    private int KeepNewestPerSource()
    {
        var kept = new List<StreamEvent>(4);
        for (var i = _count - 1; i >= 0; i--)
        {
            var queued = _ring[(_head + i) % _ring.Length];
            if (queued.Source is { } source && !kept.Exists(e => e.Source == source))
            {
                kept.Add(queued);
            }
        }

        // More sources than room (a queue smaller than the number of replicas): the oldest of them go too.
        if (kept.Count >= _capacity)
        {
            kept.RemoveRange(_capacity - 1, kept.Count - (_capacity - 1));
        }

        kept.Reverse();
        var skipped = _count - kept.Count;
        Array.Clear(_ring);
        kept.CopyTo(_ring);
        _head = 0;
        _count = kept.Count;
        return skipped;
    }

    private void Grow()
    {
        var larger = new StreamEvent[Math.Min(_ring.Length * 2, _capacity)];
        for (var i = 0; i < _count; i++)
        {
            larger[i] = _ring[(_head + i) % _ring.Length];
        }

        _ring = larger;
        _head = 0;
    }

    /// <summary>Wakes the reader as part of <paramref name="wave"/>'s current batch.</summary>
    internal void WakeInWave(FanOutWave wave)
    {
        _wave = wave;
        Wake(true);
    }

    private void Wake(bool result)
    {
        _wakeResult = result;
        ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
    }

    void IThreadPoolWorkItem.Execute()
    {
        // Read before waking: the writer runs inline, and once it waits again the next wake may set a new wave.
        var wave = _wave;
        _wave = null;
        _wakeUp.SetResult(_wakeResult);
        wave?.WriterRan();
    }

    bool IValueTaskSource<bool>.GetResult(short token) => _wakeUp.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<bool>.GetStatus(short token) => _wakeUp.GetStatus(token);

    void IValueTaskSource<bool>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _wakeUp.OnCompleted(continuation, state, token, flags);

    internal enum Offer
    {
        Queued,
        Compacted,
        Stalled,
        Ended,
    }
}
