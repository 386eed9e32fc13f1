using System.Threading.Channels;

namespace Metrics.Api.Streaming;

/// <summary>
/// One open stream on this replica: the events to replay, a bounded queue of live events, and
/// how the stream ended. The first end reason wins; ending completes the queue so the reader
/// finishes instead of throwing.
/// </summary>
public sealed class StreamSubscription : IDisposable
{
    private const int NotEnded = -1;

    private readonly StreamSubscribers _owner;
    private readonly Channel<StreamEvent> _queue;
    private readonly Action? _abortTransport;
    private int _endReason = NotEnded;
    private int _disposed;
    private long _sent;
    private ITimer? _deadline;
    private StreamEndReason _deadlineReason;

    internal StreamSubscription(
        StreamSubscribers owner,
        SubscriptionRequest request,
        int queueCapacity,
        IReadOnlyList<StreamEvent> replay,
        ResumeGap? gap)
    {
        _owner = owner;
        _abortTransport = request.AbortTransport;
        UserId = request.UserId;
        Replay = replay;
        Gap = gap;
        StartTimestamp = owner.TimeProvider.GetTimestamp();
        // Wait mode makes TryWrite return false when the queue is full: that is how overflow is
        // detected (DropWrite would report success). The publisher never waits.
        _queue = Channel.CreateBounded<StreamEvent>(new BoundedChannelOptions(queueCapacity)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
        });
    }

    public string UserId { get; }

    /// <summary>Events published before this subscription that the client missed, oldest first.</summary>
    public IReadOnlyList<StreamEvent> Replay { get; }

    /// <summary>Set when the requested resume point is no longer (or never was) in the replay buffer.</summary>
    public ResumeGap? Gap { get; }

    /// <summary>Live events published after the replay snapshot. Completes when the stream ends.</summary>
    public ChannelReader<StreamEvent> Live => _queue.Reader;

    public bool IsEnded => Volatile.Read(ref _endReason) != NotEnded;

    public StreamEndReason? EndReason => Volatile.Read(ref _endReason) is var reason and not NotEnded ? (StreamEndReason)reason : null;

    /// <summary>Events written to the client so far.</summary>
    public long SentCount => Volatile.Read(ref _sent);

    internal long StartTimestamp { get; }

    /// <summary>Position in the owner's array; only touched under the owner's lock.</summary>
    internal int Slot { get; set; } = -1;

    /// <summary>Ends the stream for <paramref name="reason"/> unless it already ended. Never throws, never blocks.</summary>
    public bool TryEnd(StreamEndReason reason)
    {
        if (Interlocked.CompareExchange(ref _endReason, (int)reason, NotEnded) != NotEnded)
        {
            return false;
        }

        _queue.Writer.TryComplete();
        return true;
    }

    /// <summary>
    /// Ends the stream for <paramref name="reason"/> after <paramref name="dueIn"/> (max age, session
    /// expiry). One deadline per stream; a later call replaces an earlier one.
    /// </summary>
    public void EndAfter(TimeSpan dueIn, StreamEndReason reason)
    {
        if (dueIn <= TimeSpan.Zero)
        {
            TryEnd(reason);
            return;
        }

        _deadlineReason = reason;
        var previous = Interlocked.Exchange(
            ref _deadline,
            _owner.TimeProvider.CreateTimer(
                static state => ((StreamSubscription)state!).EndAtDeadline(),
                this,
                dueIn,
                Timeout.InfiniteTimeSpan));
        previous?.Dispose();
    }

    /// <summary>Call after each event has been written and flushed to the client.</summary>
    public void RecordSent()
    {
        _sent++;
        _owner.RecordSent();
    }

    /// <summary>Leaves the hub, counted by end reason (client_disconnect when nothing else ended it first).</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        TryEnd(StreamEndReason.ClientDisconnect);
        _deadline?.Dispose();
        _owner.Remove(this);
    }

    /// <summary>Offers a live event; false when the queue is full or the stream has ended.</summary>
    internal bool TryEnqueue(StreamEvent streamEvent) => _queue.Writer.TryWrite(streamEvent);

    /// <summary>Events queued but never written (the stream ended first).</summary>
    internal int UnsentCount => _queue.Reader.Count;

    internal void AbortTransport() => _abortTransport?.Invoke();

    private void EndAtDeadline() => TryEnd(_deadlineReason);
}
