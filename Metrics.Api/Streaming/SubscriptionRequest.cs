namespace Metrics.Api.Streaming;

/// <summary>What a new stream asks of the hub.</summary>
/// <param name="UserId">Who is streaming, for the distinct-users count (<see cref="StreamUser.Anonymous"/> when unknown). Never a metric attribute.</param>
/// <param name="LastEventId">The last event the client saw, to resume after; null for a fresh stream.</param>
public sealed record SubscriptionRequest(string UserId, long? LastEventId)
{
    /// <summary>
    /// Cuts the transport without a farewell (HttpContext.Abort). Used when the client stopped
    /// reading, because a polite last event would only queue behind the ones it is not reading.
    /// </summary>
    public Action? AbortTransport { get; init; }
}

/// <summary>The client asked to resume after an event this replica can no longer replay.</summary>
/// <param name="LastEventId">The id the client sent.</param>
/// <param name="FirstAvailableId">The oldest event still held for replay (it follows the gap), or null if none.</param>
/// <param name="LatestId">The newest event published so far.</param>
public sealed record ResumeGap(long LastEventId, long? FirstAvailableId, long LatestId);
