using System.Security.Claims;
using Metrics.Api.Contracts;
using Microsoft.Extensions.Options;

namespace Dashboard.Web.Auth;

/// <summary>
/// Mints access tokens as the development issuer (<see cref="DevelopmentTokens"/>: JWT <c>typ: at+jwt</c>, HS256 with
/// the AppHost's key, <c>scope: metrics.read</c>, short-lived). Tokens stay on the server.
/// </summary>
public sealed class DevelopmentTokenIssuer(IOptions<DevelopmentIssuerOptions> options, TimeProvider timeProvider)
{
    public const string ClientId = "dashboard-web";

    public AccessToken Mint(string subject, string name)
    {
        var (token, expiresAt) = DevelopmentTokens.Mint(options.Value, subject, name, timeProvider.GetUtcNow(), ClientId);
        return new AccessToken(token, expiresAt);
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
