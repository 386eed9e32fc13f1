using Microsoft.Extensions.Options;

namespace Metrics.Api.Streaming;

/// <summary>
/// The single-replica hub: ids, replay buffer and fan-out in this process.
/// </summary>
/// <remarks>
/// <para>Ids start at the start-up time in unix milliseconds × 1000, so a restarted process never reissues ids an
/// earlier one gave out: a client resuming with an old id gets an explicit gap instead of silently wrong events.
/// (They stay below 2^53, exact as JavaScript numbers.)</para>
/// <para>A new stream is registered for live events first and reads the replay second, so no event falls between
/// the two; the response skips the live events the replay already covered. Publishers take turns (ids reach every
/// stream in order); subscribing never waits for a fan-out.</para>
/// </remarks>
public sealed class InMemoryEventHub : IEventHub
{
    private readonly Lock _publishLock = new();
    private readonly Lock _replayLock = new();
    private readonly StreamSubscribers _subscribers;
    private readonly ReplayBuffer _replay;
    private readonly TimeProvider _timeProvider;
    private long _latestId;

    public InMemoryEventHub(StreamSubscribers subscribers, IOptions<StreamingOptions> options, TimeProvider timeProvider)
    {
        _subscribers = subscribers;
        _timeProvider = timeProvider;
        _latestId = timeProvider.GetUtcNow().ToUnixTimeMilliseconds() * 1000;
        _replay = new ReplayBuffer(options.Value.ReplayCapacity, options.Value.ReplayMaxAge, timeProvider, floor: _latestId);
    }

    /// <summary>The id of the newest event (the start-up seed when nothing was published yet).</summary>
    public long LatestId => Volatile.Read(ref _latestId);

    public ValueTask<long> PublishAsync(string eventType, ReadOnlyMemory<byte> utf8Data, CancellationToken cancellationToken = default)
    {
        var data = utf8Data.ToArray();
        lock (_publishLock)
        {
            // One publisher here, so events of a type supersede each other when a stream lags.
            // The constructor validates the event type; nothing has changed yet if it throws.
            var streamEvent = new StreamEvent(LatestId + 1, eventType, data, _timeProvider.GetTimestamp(), source: eventType);
            lock (_replayLock)
            {
                _replay.Append(streamEvent);
                Volatile.Write(ref _latestId, streamEvent.Id!.Value);
            }

            _subscribers.Deliver(streamEvent);
            return ValueTask.FromResult(streamEvent.Id.Value);
        }
    }

    public ValueTask<StreamSubscription> SubscribeAsync(SubscriptionRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var subscription = _subscribers.Add(request);
        if (request.LastEventId is { } lastEventId)
        {
            lock (_replayLock)
            {
                var (replay, gap) = _replay.ReadAfter(lastEventId);
                subscription.SetReplay(replay, gap);
            }
        }

        return ValueTask.FromResult(subscription);
    }
}
