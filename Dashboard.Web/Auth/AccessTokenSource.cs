using System.Globalization;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;

namespace Dashboard.Web.Auth;

/// <summary>The signed-in user's access token for Metrics.Api. It never leaves the server.</summary>
public sealed class AccessTokenSource(BffSignIn signIn, DevelopmentTokenIssuer issuer, TimeProvider timeProvider)
{
    /// <summary>A token this close to expiry is treated as expired: it could lapse in flight.</summary>
    public static readonly TimeSpan ExpiryMargin = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Development: a fresh token minted for the session's user. OpenID Connect: the token saved in the
    /// session at sign-in. Null when signed out or when the saved token has expired.
    /// </summary>
    public async Task<AccessToken?> GetAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.User.Identity?.IsAuthenticated != true)
        {
            return null;
        }

        switch (signIn.Mode)
        {
            case SignInMode.Development:
                return issuer.MintFor(context.User);
            case SignInMode.OpenIdConnect:
                var token = await context.GetTokenAsync(CookieAuthenticationDefaults.AuthenticationScheme, "access_token");
                if (string.IsNullOrEmpty(token))
                {
                    return null;
                }

                var expiresAt = ReadExpiry(await context.GetTokenAsync(CookieAuthenticationDefaults.AuthenticationScheme, "expires_at"));
                return expiresAt is { } expiry && expiry - ExpiryMargin <= timeProvider.GetUtcNow()
                    ? null
                    : new AccessToken(token, expiresAt ?? DateTimeOffset.MaxValue);
            default:
                return null;
        }
    }

    public static DateTimeOffset? ReadExpiry(string? value) =>
        DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var expiry) ? expiry : null;
}
