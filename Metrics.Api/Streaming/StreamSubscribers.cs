using Microsoft.Extensions.Options;

namespace Metrics.Api.Streaming;

/// <summary>
/// The streams open on this replica and the local half of fan-out: every event hub (in memory, or the Redis
/// event log) hands events to <see cref="Deliver"/>, which offers the same <see cref="StreamEvent"/> instance to
/// every stream's queue.
/// </summary>
/// <remarks>
/// Streams live in shards of copy-on-write arrays: opening or closing a stream copies one shard (a few hundred
/// references at 10,000 streams) under that shard's lock, and a fan-out reads the arrays without any lock, so
/// streams come and go while 10,000 deliveries run and a delivery touches nothing shared. Counters are per
/// stream and summed when read.
/// </remarks>
public sealed class StreamSubscribers
{
    private const int ShardCount = 16;

    private readonly Shard[] _shards;
    private readonly Lock _usersLock = new();
    private readonly Dictionary<string, int> _streamsPerUser = new(StringComparer.Ordinal);
    private readonly StreamMetrics _metrics;
    private readonly ILogger<StreamSubscribers> _logger;
    private readonly int _queueCapacity;
    private readonly long _stalledAfterTicks;
    private readonly TimeSpan _stalledAfter;
    private readonly int _fanOutBatchSize;
    private int _nextShard;
    private int _count;
    private int _closedFor = -1;

    public StreamSubscribers(
        IOptions<StreamingOptions> options,
        StreamMetrics metrics,
        TimeProvider timeProvider,
        ILogger<StreamSubscribers> logger)
    {
        _queueCapacity = options.Value.QueueCapacity;
        _stalledAfter = options.Value.StalledStreamTimeout;
        _fanOutBatchSize = options.Value.FanOutBatchSize;
        _stalledAfterTicks = (long)(_stalledAfter.TotalSeconds * timeProvider.TimestampFrequency);
        _metrics = metrics;
        _logger = logger;
        _shards = new Shard[ShardCount];
        for (var i = 0; i < _shards.Length; i++)
        {
            _shards[i] = new Shard();
        }

        TimeProvider = timeProvider;
        Deadlines = new StreamDeadlines(timeProvider);
        metrics.ObserveSentEvents(() => SentEvents);
    }

    public TimeProvider TimeProvider { get; }

    /// <summary>The one timer behind every stream's maximum age and session expiry.</summary>
    public StreamDeadlines Deadlines { get; }

    /// <summary>Streams open right now.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Distinct users with at least one open stream (all anonymous streams count as one user).</summary>
    public int DistinctUsers
    {
        get
        {
            lock (_usersLock)
            {
                return _streamsPerUser.Count;
            }
        }
    }

    /// <summary>Events written to clients since start, all streams together.</summary>
    public long SentEvents
    {
        get
        {
            long sent = 0;
            foreach (var shard in _shards)
            {
                // Under the shard's lock so a stream that ends meanwhile is counted once (the counter never dips).
                lock (shard.Lock)
                {
                    sent += shard.SentByEndedStreams;
                    foreach (var subscription in shard.Members)
                    {
                        sent += subscription.SentCount;
                    }
                }
            }

            return sent;
        }
    }

    /// <summary>
    /// Creates and registers a subscription: live events reach it from now on. The hub then reads the replay and
    /// calls <see cref="StreamSubscription.SetReplay"/>; the response skips live events the replay already covers.
    /// </summary>
    public StreamSubscription Add(SubscriptionRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var subscription = new StreamSubscription(this, request, _queueCapacity);
        var shard = _shards[(uint)Interlocked.Increment(ref _nextShard) % ShardCount];
        subscription.Shard = shard;
        lock (shard.Lock)
        {
            var members = shard.Members;
            var grown = new StreamSubscription[members.Length + 1];
            members.CopyTo(grown, 0);
            grown[^1] = subscription;
            shard.Members = grown;
        }

        lock (_usersLock)
        {
            _streamsPerUser[request.UserId] = _streamsPerUser.GetValueOrDefault(request.UserId) + 1;
        }

        Interlocked.Increment(ref _count);
        _metrics.StreamOpened();
        var closedFor = Volatile.Read(ref _closedFor);
        if (closedFor >= 0)
        {
            // Arrived while the process is stopping: it still gets its ready and farewell events.
            subscription.TryEnd((StreamEndReason)closedFor);
        }

        return subscription;
    }

    /// <summary>
    /// Offers <paramref name="streamEvent"/> to every open stream without waiting and without a lock. A stream
    /// that lags keeps the newest event per source (a <c>gap</c> says how many it skipped); one whose client has
    /// read nothing for <c>StalledStreamTimeout</c> is ended as a slow consumer and its transport cut off the
    /// publisher's path. Call it from one publisher at a time, in id order.
    /// </summary>
    public void Deliver(StreamEvent streamEvent)
    {
        ArgumentNullException.ThrowIfNull(streamEvent);
        var now = TimeProvider.GetTimestamp();
        var wave = _fanOutBatchSize > 0 ? new FanOutWave(_fanOutBatchSize, Count) : null;
        long skipped = 0;
        List<StreamSubscription>? stalled = null;
        foreach (var shard in _shards)
        {
            foreach (var subscription in shard.Members)
            {
                switch (subscription.TryEnqueue(streamEvent, now, _stalledAfterTicks, wave, out var skippedNow))
                {
                    case StreamSubscription.Offer.Compacted:
                        skipped += skippedNow;
                        break;
                    case StreamSubscription.Offer.Stalled when subscription.TryEnd(StreamEndReason.SlowConsumer):
                        (stalled ??= []).Add(subscription);
                        break;
                }
            }
        }

        wave?.Start();
        if (skipped > 0)
        {
            _metrics.EventsSkipped(skipped);
        }

        if (stalled is not null)
        {
            foreach (var subscription in stalled)
            {
                StreamLog.SlowConsumerCut(_logger, _stalledAfter);
                // Aborting runs the request's cancellation callbacks; keep that off the publisher.
                ThreadPool.UnsafeQueueUserWorkItem(static s => s.AbortTransport(), subscription, preferLocal: false);
            }
        }
    }

    /// <summary>Offers <paramref name="streamEvent"/> to one stream (a status it must hear as it opens).</summary>
    public void DeliverTo(StreamSubscription subscription, StreamEvent streamEvent)
    {
        ArgumentNullException.ThrowIfNull(subscription);
        ArgumentNullException.ThrowIfNull(streamEvent);
        subscription.TryEnqueue(streamEvent, TimeProvider.GetTimestamp(), _stalledAfterTicks, wave: null, out _);
    }

    /// <summary>Ends every open stream, and every stream opened from now on, for <paramref name="reason"/>.</summary>
    public int EndAll(StreamEndReason reason)
    {
        Interlocked.CompareExchange(ref _closedFor, (int)reason, -1);
        return EndOpen(reason);
    }

    /// <summary>Ends the streams open now for <paramref name="reason"/>; new streams are welcome.</summary>
    public int EndOpen(StreamEndReason reason)
    {
        var ended = 0;
        foreach (var shard in _shards)
        {
            foreach (var subscription in shard.Members)
            {
                if (subscription.TryEnd(reason))
                {
                    ended++;
                }
            }
        }

        return ended;
    }

    internal void Remove(StreamSubscription subscription)
    {
        var shard = (Shard)subscription.Shard!;
        lock (shard.Lock)
        {
            var members = shard.Members;
            var index = Array.IndexOf(members, subscription);
            if (index < 0)
            {
                return;
            }

            var shrunk = new StreamSubscription[members.Length - 1];
            Array.Copy(members, 0, shrunk, 0, index);
            Array.Copy(members, index + 1, shrunk, index, members.Length - index - 1);
            shard.Members = shrunk;
            shard.SentByEndedStreams += subscription.SentCount;
        }

        Interlocked.Decrement(ref _count);
        lock (_usersLock)
        {
            var remaining = _streamsPerUser[subscription.UserId] - 1;
            if (remaining == 0)
            {
                _streamsPerUser.Remove(subscription.UserId);
            }
            else
            {
                _streamsPerUser[subscription.UserId] = remaining;
            }
        }

        var reason = subscription.EndReason ?? StreamEndReason.ClientDisconnect;
        var duration = TimeProvider.GetElapsedTime(subscription.StartTimestamp);
        _metrics.StreamEnded(reason, duration);
        var unsent = subscription.UnsentCount;
        if (unsent > 0)
        {
            _metrics.EventsDropped(unsent);
        }

        StreamLog.StreamEnded(_logger, reason, duration, subscription.SentCount);
    }

    private sealed class Shard
    {
        public readonly Lock Lock = new();

        /// <summary>Events written by streams that left this shard; under <see cref="Lock"/>.</summary>
        public long SentByEndedStreams;

        // Replaced, never mutated: readers take the reference and iterate it without a lock.
        private volatile StreamSubscription[] _members = [];

        public StreamSubscription[] Members
        {
            get => _members;
            set => _members = value;
        }
    }
}
