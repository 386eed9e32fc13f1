using Microsoft.Extensions.Options;

namespace Metrics.Api.Streaming;

/// <summary>
/// The single-replica hub: ids, replay buffer and fan-out in this process.
/// </summary>
/// <remarks>
/// Ids start at the start-up time in unix milliseconds × 1000, so a restarted process never
/// reissues ids an earlier one gave out: a client resuming with an old id gets an explicit gap
/// instead of silently wrong events. (They stay below 2^53, exact as JavaScript numbers.)
/// </remarks>
public sealed class InMemoryEventHub : IEventHub
{
    // Publishing and subscribing take this lock so the replay snapshot and the live
    // registration happen at one point in the id sequence: no gap, no duplicate.
    private readonly Lock _publishLock = new();
    private readonly StreamSubscribers _subscribers;
    private readonly ReplayBuffer _replay;
    private readonly TimeProvider _timeProvider;
    private long _latestId;

    public InMemoryEventHub(StreamSubscribers subscribers, IOptions<StreamingOptions> options, TimeProvider timeProvider)
    {
        _subscribers = subscribers;
        _timeProvider = timeProvider;
        _replay = new ReplayBuffer(options.Value.ReplayCapacity, options.Value.ReplayMaxAge, timeProvider);
        _latestId = timeProvider.GetUtcNow().ToUnixTimeMilliseconds() * 1000;
    }

    /// <summary>The id of the newest event (the start-up seed when nothing was published yet).</summary>
    public long LatestId => Volatile.Read(ref _latestId);

    public ValueTask<long> PublishAsync(string eventType, ReadOnlyMemory<byte> utf8Data, CancellationToken cancellationToken = default)
    {
        var data = utf8Data.ToArray();
        lock (_publishLock)
        {
            // The constructor validates the event type; nothing has changed yet if it throws.
            var streamEvent = new StreamEvent(_latestId + 1, eventType, data, _timeProvider.GetTimestamp());
            Volatile.Write(ref _latestId, streamEvent.Id!.Value);
            _replay.Append(streamEvent);
            _subscribers.Deliver(streamEvent);
            return ValueTask.FromResult(streamEvent.Id.Value);
        }
    }

    public ValueTask<StreamSubscription> SubscribeAsync(SubscriptionRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        lock (_publishLock)
        {
            var (replay, gap) = request.LastEventId is { } lastEventId
                ? _replay.ReadAfter(lastEventId, _latestId)
                : ([], null);
            return ValueTask.FromResult(_subscribers.Add(request, replay, gap));
        }
    }
}
