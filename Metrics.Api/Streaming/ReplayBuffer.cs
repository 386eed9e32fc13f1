namespace Metrics.Api.Streaming;

/// <summary>
/// The newest events, bounded by count and by age, in id order, and the point after which it holds every event
/// (<see cref="Floor"/>). Ids need not be contiguous (the Redis log's are not): what was lost is known from the
/// floor, not from arithmetic on ids. Not thread-safe: each hub calls it under its own lock.
/// </summary>
public sealed class ReplayBuffer
{
    private readonly StreamEvent[] _ring;
    private readonly TimeSpan _maxAge;
    private readonly TimeProvider _timeProvider;
    private int _head;
    private int _count;

    /// <param name="capacity">Events kept (0: none).</param>
    /// <param name="maxAge">How long an event is kept.</param>
    /// <param name="timeProvider">Clock for the age bound.</param>
    /// <param name="floor">The id after which the stream starts: no event at or before it is ever held.</param>
    public ReplayBuffer(int capacity, TimeSpan maxAge, TimeProvider timeProvider, long floor)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(capacity);
        _ring = new StreamEvent[capacity];
        _maxAge = maxAge;
        _timeProvider = timeProvider;
        Floor = floor;
        LatestId = floor;
    }

    public int Count => _count;

    /// <summary>Every event with an id above this and up to <see cref="LatestId"/> is held (or was never published).</summary>
    public long Floor { get; private set; }

    /// <summary>The id of the newest event appended (the floor when none was).</summary>
    public long LatestId { get; private set; }

    /// <summary>Appends an event whose id is greater than every earlier one.</summary>
    public void Append(StreamEvent streamEvent)
    {
        ArgumentNullException.ThrowIfNull(streamEvent);
        var id = streamEvent.Id ?? throw new ArgumentException("Only events with ids are replayed.", nameof(streamEvent));
        if (id <= LatestId)
        {
            throw new ArgumentOutOfRangeException(nameof(streamEvent), id, $"Ids only grow; the latest is {LatestId}.");
        }

        LatestId = id;
        if (_ring.Length == 0)
        {
            Floor = id;
            return;
        }

        if (_count == _ring.Length)
        {
            EvictOldest();
        }

        _ring[(_head + _count) % _ring.Length] = streamEvent;
        _count++;
        EvictExpired();
    }

    /// <summary>Whether every event after <paramref name="lastEventId"/> is held here (after the age bound is applied).</summary>
    public bool Covers(long lastEventId)
    {
        EvictExpired();
        return lastEventId >= Floor && lastEventId <= LatestId;
    }

    /// <summary>
    /// The retained events after <paramref name="lastEventId"/>, and a gap when events the client missed are no
    /// longer held (or the id was never issued by this stream).
    /// </summary>
    public (IReadOnlyList<StreamEvent> Events, ResumeGap? Gap) ReadAfter(long lastEventId)
    {
        if (!Covers(lastEventId))
        {
            // Too old, or from the future (another replica or an earlier process): say so, then
            // give whatever is still held rather than nothing.
            return (Slice(0), new ResumeGap(lastEventId, _count > 0 ? _ring[_head].Id : null, LatestId));
        }

        // Ids are ordered: the first event after the resume point by binary search.
        int low = 0, high = _count;
        while (low < high)
        {
            var middle = (low + high) / 2;
            if (_ring[(_head + middle) % _ring.Length].Id <= lastEventId)
            {
                low = middle + 1;
            }
            else
            {
                high = middle;
            }
        }

        return (Slice(low), null);
    }

    /// <summary>Forgets everything: the stream starts again after <paramref name="floor"/> (events were lost before it).</summary>
    public void Reset(long floor)
    {
        Array.Clear(_ring);
        _head = 0;
        _count = 0;
        Floor = floor;
        LatestId = Math.Max(LatestId, floor);
    }

    private StreamEvent[] Slice(int skip)
    {
        var events = new StreamEvent[_count - skip];
        for (var i = 0; i < events.Length; i++)
        {
            events[i] = _ring[(_head + skip + i) % _ring.Length];
        }

        return events;
    }

    private void EvictExpired()
    {
        while (_count > 0 && _timeProvider.GetElapsedTime(_ring[_head].Timestamp) > _maxAge)
        {
            EvictOldest();
        }
    }

    private void EvictOldest()
    {
        Floor = _ring[_head].Id!.Value;
        _ring[_head] = null!;
        _head = (_head + 1) % _ring.Length;
        _count--;
    }
}
