using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Metrics.Api.Auth;

/// <summary>
/// Mints stream tickets: JWT, <c>typ: metrics-stream+jwt</c>, HS256 with <c>StreamTickets:SigningKey</c>, claims
/// <c>iss</c>, <c>aud</c>, <c>sub</c>, <c>scope</c>, <c>path</c>, <c>jti</c>, <c>iat</c>/<c>nbf</c>/<c>exp</c> and
/// <c>session_exp</c> (when the access token it was issued for expires).
/// </summary>
public sealed class StreamTicketIssuer
{
    public const string PathClaim = "path";
    public const string SessionExpiresClaim = "session_exp";
    public const string ScopeClaim = "scope";

    private readonly StreamTicketOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly SigningCredentials _credentials;
    private readonly JsonWebTokenHandler _handler = new() { SetDefaultTimesOnTokenCreation = false };

    public StreamTicketIssuer(IOptions<StreamTicketOptions> options, TimeProvider timeProvider)
    {
        _options = options.Value;
        _timeProvider = timeProvider;
        var key = _options.TryGetKeyBytes() ?? throw new InvalidOperationException("StreamTickets:SigningKey is not configured.");
        _credentials = new SigningCredentials(new SymmetricSecurityKey(key), SecurityAlgorithms.HmacSha256);
    }

    /// <summary>
    /// A ticket for <paramref name="subject"/> to open <paramref name="path"/> once, within the session; null when
    /// the session ends within the current second (a ticket could not outlive its own issue time).
    /// </summary>
    public IssuedTicket? Issue(string subject, string path, DateTimeOffset sessionExpiresAt)
    {
        ArgumentException.ThrowIfNullOrEmpty(subject);
        ArgumentException.ThrowIfNullOrEmpty(path);
        // JWT times are whole seconds: round now down and the end down, so the ticket never outlives the session.
        var now = DateTimeOffset.FromUnixTimeSeconds(_timeProvider.GetUtcNow().ToUnixTimeSeconds());
        var sessionEnd = DateTimeOffset.FromUnixTimeSeconds(sessionExpiresAt.ToUnixTimeSeconds());
        var expires = now + _options.Lifetime < sessionEnd ? now + _options.Lifetime : sessionEnd;
        if (expires <= now)
        {
            return null;
        }

        var token = _handler.CreateToken(new SecurityTokenDescriptor
        {
            TokenType = StreamTicketOptions.TokenType,
            Issuer = _options.Issuer,
            Audience = _options.Audience,
            IssuedAt = now.UtcDateTime,
            NotBefore = now.UtcDateTime,
            Expires = expires.UtcDateTime,
            Claims = new Dictionary<string, object>
            {
                [JwtRegisteredClaimNames.Sub] = subject,
                [ScopeClaim] = MetricsAuth.ReadScope,
                [PathClaim] = path,
                [JwtRegisteredClaimNames.Jti] = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(16)),
                [SessionExpiresClaim] = sessionEnd.ToUnixTimeSeconds(),
            },
            SigningCredentials = _credentials,
        });
        return new IssuedTicket(token, expires);
    }
}

/// <summary>A ticket and when it stops being redeemable.</summary>
public sealed record IssuedTicket(string Value, DateTimeOffset ExpiresAt);
