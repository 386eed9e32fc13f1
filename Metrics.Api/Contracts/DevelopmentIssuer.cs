using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Metrics.Api.Contracts;

// The AppHost's development token issuer, defined once: Metrics.Api trusts its tokens, Dashboard.Web mints them, and
// the tests and the benchmarks mint them too. Source-linked (<Compile Link>) into each, like StreamTickets.cs.

/// <summary>
/// The development issuer (section <c>DevelopmentIssuer</c>, from the AppHost's secret parameter
/// <c>development-issuer-signing-key</c>): an HMAC-SHA256 key, an issuer and an audience. Honoured only in the
/// Development environment; each service decides what a configured issuer means outside it.
/// </summary>
public sealed class DevelopmentIssuerOptions
{
    public const string SectionName = "DevelopmentIssuer";

    /// <summary>RFC 9068 access tokens.</summary>
    public const string TokenType = "at+jwt";

    public const string Scope = "metrics.read";

    public const int MinimumKeyBytes = 32;

    /// <summary>Base64 of at least <see cref="MinimumKeyBytes"/> random bytes.</summary>
    public string? SigningKey { get; set; }

    /// <summary>The <c>iss</c> claim, an absolute URI (e.g. https://dev-issuer.localhost).</summary>
    public string? Issuer { get; set; }

    /// <summary>The <c>aud</c> claim (e.g. metrics-api).</summary>
    public string? Audience { get; set; }

    /// <summary>Lifetime of a minted access token.</summary>
    public TimeSpan AccessTokenLifetime { get; set; } = TimeSpan.FromMinutes(15);

    public bool IsConfigured => !string.IsNullOrWhiteSpace(SigningKey);

    /// <summary>The decoded key, or null when it is missing or not base64.</summary>
    public byte[]? TryGetKeyBytes() => SigningKeys.TryDecode(SigningKey);

    /// <summary>What is wrong with these settings (empty when they can mint and validate tokens).</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (TryGetKeyBytes() is not { Length: >= MinimumKeyBytes })
        {
            problems.Add($"{SectionName}:SigningKey must be base64 of at least {MinimumKeyBytes} bytes (HMAC-SHA256).");
        }

        if (!Uri.TryCreate(Issuer, UriKind.Absolute, out _))
        {
            problems.Add($"{SectionName}:Issuer must be an absolute URI.");
        }

        if (string.IsNullOrWhiteSpace(Audience))
        {
            problems.Add($"{SectionName}:Audience is required.");
        }

        if (AccessTokenLifetime < TimeSpan.FromMinutes(1) || AccessTokenLifetime > TimeSpan.FromHours(1))
        {
            problems.Add($"{SectionName}:AccessTokenLifetime must be between 1 minute and 1 hour.");
        }

        return problems;
    }
}

/// <summary>Access tokens as the development issuer mints them.</summary>
public static class DevelopmentTokens
{
    private static readonly JsonWebTokenHandler s_handler = new() { SetDefaultTimesOnTokenCreation = false };

    /// <summary>
    /// A JWT (<c>typ: at+jwt</c>), HS256 with the issuer's key: <c>sub</c>, <c>name</c>, <c>scope: metrics.read</c>,
    /// <c>client_id</c>, <c>jti</c>, valid from <paramref name="now"/> for the options' lifetime.
    /// </summary>
    public static (string Token, DateTimeOffset ExpiresAt) Mint(
        DevelopmentIssuerOptions options, string subject, string name, DateTimeOffset now, string clientId = "dashboard-web")
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrEmpty(subject);
        ArgumentException.ThrowIfNullOrEmpty(name);
        var key = options.TryGetKeyBytes() ?? throw new InvalidOperationException($"{DevelopmentIssuerOptions.SectionName}:SigningKey is not base64.");
        var expires = now + options.AccessTokenLifetime;
        var token = s_handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = options.Issuer,
            Audience = options.Audience,
            IssuedAt = now.UtcDateTime,
            NotBefore = now.UtcDateTime,
            Expires = expires.UtcDateTime,
            TokenType = DevelopmentIssuerOptions.TokenType,
            Claims = new Dictionary<string, object>
            {
                [JwtRegisteredClaimNames.Sub] = subject,
                [JwtRegisteredClaimNames.Name] = name,
                ["scope"] = DevelopmentIssuerOptions.Scope,
                ["client_id"] = clientId,
                [JwtRegisteredClaimNames.Jti] = Guid.NewGuid().ToString("N"),
            },
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(key), SecurityAlgorithms.HmacSha256),
        });
        return (token, expires);
    }
}

/// <summary>Base64 signing keys as configuration holds them (surrounding white space ignored).</summary>
public static class SigningKeys
{
    public static byte[]? TryDecode(string? base64)
    {
        if (string.IsNullOrWhiteSpace(base64))
        {
            return null;
        }

        var buffer = new byte[base64.Length];
        return Convert.TryFromBase64String(base64.Trim(), buffer, out var written) ? buffer[..written] : null;
    }
}
