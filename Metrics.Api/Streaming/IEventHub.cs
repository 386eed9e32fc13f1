namespace Metrics.Api.Streaming;

/// <summary>
/// The stream every dashboard reads. Implementations own event ids and the replay buffer and
/// hand live events to <see cref="StreamSubscribers.Deliver"/>; <see cref="InMemoryEventHub"/>
/// serves one replica, and a Redis backplane can implement the same contract so that several
/// replicas share one stream (ids from Redis, local fan-out unchanged).
/// </summary>
public interface IEventHub
{
    /// <summary>
    /// Publishes one event to every subscriber. The hub assigns the next id (monotonic), keeps the
    /// event for replay and copies <paramref name="utf8Data"/> once; subscribers share that copy.
    /// </summary>
    /// <returns>The id given to the event.</returns>
    ValueTask<long> PublishAsync(string eventType, ReadOnlyMemory<byte> utf8Data, CancellationToken cancellationToken = default);

    /// <summary>
    /// Opens a stream: the events after <see cref="SubscriptionRequest.LastEventId"/> (or a
    /// <see cref="ResumeGap"/> when they are gone), then every live event, with nothing lost or
    /// repeated between the two. Dispose the subscription when the stream ends.
    /// </summary>
    ValueTask<StreamSubscription> SubscribeAsync(SubscriptionRequest request, CancellationToken cancellationToken = default);
}
