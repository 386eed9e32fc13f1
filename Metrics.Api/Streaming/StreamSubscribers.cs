using Microsoft.Extensions.Options;

namespace Metrics.Api.Streaming;

/// <summary>
/// The streams open on this replica and the local half of fan-out: every event hub
/// implementation (in memory today, a Redis backplane later) hands events to
/// <see cref="Deliver"/>, which offers the same <see cref="StreamEvent"/> instance to every queue.
/// </summary>
public sealed class StreamSubscribers
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, int> _streamsPerUser = new(StringComparer.Ordinal);
    private readonly StreamMetrics _metrics;
    private readonly ILogger<StreamSubscribers> _logger;
    private readonly int _queueCapacity;
    private StreamSubscription[] _subscriptions = new StreamSubscription[64];
    private int _count;
    private StreamEndReason? _closedFor;
    private long _sentEvents;

    public StreamSubscribers(
        IOptions<StreamingOptions> options,
        StreamMetrics metrics,
        TimeProvider timeProvider,
        ILogger<StreamSubscribers> logger)
    {
        _queueCapacity = options.Value.QueueCapacity;
        _metrics = metrics;
        _logger = logger;
        TimeProvider = timeProvider;
    }

    public TimeProvider TimeProvider { get; }

    /// <summary>Streams open right now.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _count;
            }
        }
    }

    /// <summary>Distinct users with at least one open stream (all anonymous streams count as one user).</summary>
    public int DistinctUsers
    {
        get
        {
            lock (_lock)
            {
                return _streamsPerUser.Count;
            }
        }
    }

    /// <summary>Events written to clients since start, all streams together.</summary>
    public long SentEvents => Interlocked.Read(ref _sentEvents);

    /// <summary>
    /// Creates and registers a subscription. Callers that need "replay snapshot, then live" hold
    /// their publish lock around the snapshot and this call, so no event falls between the two.
    /// </summary>
    public StreamSubscription Add(SubscriptionRequest request, IReadOnlyList<StreamEvent> replay, ResumeGap? gap)
    {
        var subscription = new StreamSubscription(this, request, _queueCapacity, replay, gap);
        StreamEndReason? closedFor;
        lock (_lock)
        {
            if (_count == _subscriptions.Length)
            {
                Array.Resize(ref _subscriptions, _subscriptions.Length * 2);
            }

            subscription.Slot = _count;
            _subscriptions[_count++] = subscription;
            _streamsPerUser[request.UserId] = _streamsPerUser.GetValueOrDefault(request.UserId) + 1;
            closedFor = _closedFor;
        }

        _metrics.StreamOpened();
        if (closedFor is { } reason)
        {
            // Arrived while the process is stopping: it still gets its ready and farewell events.
            subscription.TryEnd(reason);
        }

        return subscription;
    }

    /// <summary>
    /// Offers <paramref name="streamEvent"/> to every open stream without waiting. A stream whose
    /// queue is full is ended as a slow consumer and its transport is cut off the publisher's path.
    /// </summary>
    public void Deliver(StreamEvent streamEvent)
    {
        List<StreamSubscription>? overflowed = null;
        lock (_lock)
        {
            var subscriptions = _subscriptions;
            for (var i = 0; i < _count; i++)
            {
                var subscription = subscriptions[i];
                if (!subscription.TryEnqueue(streamEvent) && subscription.TryEnd(StreamEndReason.SlowConsumer))
                {
                    (overflowed ??= []).Add(subscription);
                }
            }
        }

        if (overflowed is not null)
        {
            foreach (var subscription in overflowed)
            {
                _metrics.EventsDropped(1);
                StreamLog.SlowConsumerCut(_logger, _queueCapacity);
                // Aborting runs the request's cancellation callbacks; keep that off the publisher.
                ThreadPool.UnsafeQueueUserWorkItem(static s => s.AbortTransport(), subscription, preferLocal: false);
            }
        }
    }

    /// <summary>Ends every open stream, and every stream opened from now on, for <paramref name="reason"/>.</summary>
    public int EndAll(StreamEndReason reason) => End(reason, closeToNewStreams: true);

    /// <summary>Ends the streams open now for <paramref name="reason"/>; new streams are welcome.</summary>
    public int EndOpen(StreamEndReason reason) => End(reason, closeToNewStreams: false);

    private int End(StreamEndReason reason, bool closeToNewStreams)
    {
        StreamSubscription[] snapshot;
        lock (_lock)
        {
            if (closeToNewStreams)
            {
                _closedFor ??= reason;
            }

            snapshot = _subscriptions[.._count];
        }

        var ended = 0;
        foreach (var subscription in snapshot)
        {
            if (subscription.TryEnd(reason))
            {
                ended++;
            }
        }

        return ended;
    }

    internal void RecordSent()
    {
        Interlocked.Increment(ref _sentEvents);
        _metrics.EventSent();
    }

    internal void Remove(StreamSubscription subscription)
    {
        lock (_lock)
        {
            var slot = subscription.Slot;
            if (slot < 0)
            {
                return;
            }

            // Swap-remove keeps removal O(1) with thousands of streams.
            var last = _subscriptions[--_count];
            _subscriptions[slot] = last;
            last.Slot = slot;
            _subscriptions[_count] = null!;
            subscription.Slot = -1;

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
}
