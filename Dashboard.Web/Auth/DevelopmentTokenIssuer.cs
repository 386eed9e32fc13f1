using System.Security.Claims;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Dashboard.Web.Auth;

/// <summary>
/// Mints access tokens as the development issuer: JWT (<c>typ: at+jwt</c>, RFC 9068), HS256 with the
/// AppHost's key, <c>sub</c>, <c>name</c>, <c>scope: metrics.read</c>, short-lived. Tokens stay on the server.
/// </summary>
public sealed class DevelopmentTokenIssuer(IOptions<DevelopmentIssuerOptions> options, TimeProvider timeProvider)
{
    public const string TokenType = "at+jwt";
    public const string Scope = "metrics.read";
    public const string ClientId = "dashboard-web";

    private readonly JsonWebTokenHandler _handler = new() { SetDefaultTimesOnTokenCreation = false };

    public AccessToken Mint(string subject, string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(subject);
        ArgumentException.ThrowIfNullOrEmpty(name);
        var settings = options.Value;
        var now = timeProvider.GetUtcNow();
        var expires = now + settings.AccessTokenLifetime;
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = settings.Issuer,
            Audience = settings.Audience,
            IssuedAt = now.UtcDateTime,
            NotBefore = now.UtcDateTime,
            Expires = expires.UtcDateTime,
            TokenType = TokenType,
            Claims = new Dictionary<string, object>
            {
                [JwtRegisteredClaimNames.Sub] = subject,
                [JwtRegisteredClaimNames.Name] = name,
                ["scope"] = Scope,
                ["client_id"] = ClientId,
                [JwtRegisteredClaimNames.Jti] = Guid.NewGuid().ToString("N"),
            },
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(settings.GetKeyBytes()), SecurityAlgorithms.HmacSha256),
        };
        return new AccessToken(_handler.CreateToken(descriptor), expires);
    }

    /// <summary>The signed-in user's <c>sub</c> and <c>name</c>, as the development sign-in stored them.</summary>
    public AccessToken MintFor(ClaimsPrincipal user)
    {
        ArgumentNullException.ThrowIfNull(user);
        var subject = user.FindFirstValue(BffClaims.Subject) ?? throw new InvalidOperationException("The session has no subject.");
        return Mint(subject, user.FindFirstValue(BffClaims.Name) ?? subject);
    }
}

/// <summary>An access token for Metrics.Api and when it expires.</summary>
public sealed record AccessToken(string Value, DateTimeOffset ExpiresAt);

/// <summary>Claim types in the session cookie (JWT names: inbound claim mapping is off).</summary>
public static class BffClaims
{
    public const string Subject = "sub";
    public const string Name = "name";
}
