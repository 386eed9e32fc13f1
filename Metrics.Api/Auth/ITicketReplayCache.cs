namespace Metrics.Api.Auth;

/// <summary>
/// Remembers redeemed stream tickets (their <c>jti</c>) until they expire, so each is accepted once. The in-memory
/// implementation covers one replica; with several replicas behind the edge register a shared one (Redis
/// <c>SET jti 1 NX PXAT expiry</c>) in its place: every replica must see every redemption.
/// </summary>
public interface ITicketReplayCache
{
    /// <summary>
    /// Records <paramref name="ticketId"/> as used until <paramref name="keepUntil"/>. True the first time, false
    /// for every later call with the same id (atomic: of two concurrent calls exactly one gets true).
    /// </summary>
    ValueTask<bool> TryRedeemAsync(string ticketId, DateTimeOffset keepUntil, CancellationToken cancellationToken = default);
}
