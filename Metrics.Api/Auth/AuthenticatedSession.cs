using Metrics.Api.Streaming;

namespace Metrics.Api.Auth;

/// <summary>
/// The session behind a request's credential, set on the request when a token is validated. As the
/// <see cref="IStreamSessionFeature"/> it bounds a stream: the stream sends <c>reauth</c> and ends
/// (<c>token_expired</c>) at <see cref="ExpiresAt"/>, a little before the session itself ends.
/// </summary>
public sealed class AuthenticatedSession : IStreamSessionFeature
{
    /// <summary>At most this long before the session's end a stream is told to re-authenticate.</summary>
    public static readonly TimeSpan MaxEndJitter = TimeSpan.FromSeconds(5);

    private AuthenticatedSession(DateTimeOffset sessionExpiresAt, DateTimeOffset? streamEndsAt, CancellationToken revoked)
    {
        SessionExpiresAt = sessionExpiresAt;
        ExpiresAt = streamEndsAt;
        Revoked = revoked;
    }

    /// <summary>
    /// When the session ends: the access token's <c>exp</c>, or for a ticket the <c>session_exp</c> it carries
    /// (the <c>exp</c> of the access token it was issued for).
    /// </summary>
    public DateTimeOffset SessionExpiresAt { get; }

    /// <summary>When a stream opened with this credential ends: the session's end minus a small random lead.</summary>
    public DateTimeOffset? ExpiresAt { get; }

    /// <summary>Cancelled when the session is revoked early; only a bound set before authentication does that today.</summary>
    public CancellationToken Revoked { get; }

    /// <summary>
    /// The lead is random, up to <see cref="MaxEndJitter"/> and never more than a tenth of what remains, so
    /// streams whose sessions end together do not all come back together.
    /// </summary>
    public static AuthenticatedSession Create(DateTimeOffset sessionExpiresAt, DateTimeOffset now)
    {
        var remaining = sessionExpiresAt - now;
        var lead = remaining <= TimeSpan.Zero
            ? TimeSpan.Zero
            : Jitter.Between(TimeSpan.Zero, TimeSpan.FromTicks(Math.Min(MaxEndJitter.Ticks, remaining.Ticks / 10)));
        return new AuthenticatedSession(sessionExpiresAt, sessionExpiresAt - lead, CancellationToken.None);
    }

    /// <summary>
    /// Makes this the request's session, for the stream and for ticket issuance. A bound something earlier in the
    /// pipeline already put on the request (a gateway, a revocation check) is kept: authentication never lengthens
    /// a session, so the earlier of the two ends and the earlier revocation apply.
    /// </summary>
    public void AttachTo(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var session = this;
        if (context.Features.Get<IStreamSessionFeature>() is { } earlier and not AuthenticatedSession)
        {
            var endsAt = earlier.ExpiresAt is { } bound && bound < ExpiresAt ? bound : ExpiresAt;
            session = new AuthenticatedSession(SessionExpiresAt, endsAt, earlier.Revoked);
        }

        context.Features.Set<IStreamSessionFeature>(session);
        context.Features.Set(session);
    }
}
