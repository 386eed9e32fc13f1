namespace Metrics.Api.Streaming;

/// <summary>
/// The newest published events, bounded by count and by age, in id order. Not thread-safe:
/// the hub calls it under its publish lock.
/// </summary>
public sealed class ReplayBuffer
{
    private readonly StreamEvent[] _ring;
    private readonly TimeSpan _maxAge;
    private readonly TimeProvider _timeProvider;
    private int _head;
    private int _count;

    public ReplayBuffer(int capacity, TimeSpan maxAge, TimeProvider timeProvider)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(capacity);
        _ring = new StreamEvent[capacity];
        _maxAge = maxAge;
        _timeProvider = timeProvider;
    }

    public int Count => _count;

    /// <summary>Appends an event whose id is one more than the previous one.</summary>
    public void Append(StreamEvent streamEvent)
    {
        if (_ring.Length == 0)
        {
            return;
        }

        if (_count == _ring.Length)
        {
            _ring[_head] = null!;
            _head = (_head + 1) % _ring.Length;
            _count--;
        }

        _ring[(_head + _count) % _ring.Length] = streamEvent;
        _count++;
        EvictExpired();
    }

    /// <summary>
    /// The retained events after <paramref name="lastEventId"/>, and a gap when events the client
    /// missed are no longer held (or the id was never issued by this stream).
    /// </summary>
    public (IReadOnlyList<StreamEvent> Events, ResumeGap? Gap) ReadAfter(long lastEventId, long latestId)
    {
        EvictExpired();
        var firstId = _count > 0 ? _ring[_head].Id!.Value : (long?)null;

        if (lastEventId == latestId)
        {
            return ([], null);
        }

        if (lastEventId > latestId || firstId is null || firstId > lastEventId + 1)
        {
            // Too old, or from the future (another replica or an earlier process): say so, then
            // give whatever is still held rather than nothing.
            return (Slice(0), new ResumeGap(lastEventId, firstId, latestId));
        }

        return (Slice((int)(lastEventId + 1 - firstId.Value)), null);
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
            _ring[_head] = null!;
            _head = (_head + 1) % _ring.Length;
            _count--;
        }
    }
}
