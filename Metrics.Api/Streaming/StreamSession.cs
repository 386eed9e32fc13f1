namespace Metrics.Api.Streaming;

/// <summary>
/// How long the caller's session may keep a stream open. Authentication sets it on the request
/// (<c>HttpContext.Features.Set&lt;IStreamSessionFeature&gt;(...)</c>, e.g. from a validated token's
/// expiry); the stream then ends with a <c>reauth</c> event and reason <c>token_expired</c> when
/// <see cref="ExpiresAt"/> passes or <see cref="Revoked"/> fires. Without it, streams are not bounded
/// by a session.
/// </summary>
public interface IStreamSessionFeature
{
    /// <summary>When the session stops being valid; null for no expiry.</summary>
    DateTimeOffset? ExpiresAt { get; }

    /// <summary>Cancelled when the session is revoked early (sign-out, key rotation); None if never.</summary>
    CancellationToken Revoked { get; }
}

/// <inheritdoc />
public sealed class StreamSessionFeature : IStreamSessionFeature
{
    public DateTimeOffset? ExpiresAt { get; init; }

    public CancellationToken Revoked { get; init; }
}
