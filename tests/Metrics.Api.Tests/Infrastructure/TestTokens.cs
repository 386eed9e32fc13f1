using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.IdentityModel.Tokens;

namespace Metrics.Api.Tests.Infrastructure;

/// <summary>
/// Mints JWTs byte by byte (shared with Edge.Proxy.Tests, which links this file), so tests can forge anything: any <c>alg</c> (none included), any <c>typ</c>, any key,
/// missing claims, chosen <c>exp</c>/<c>nbf</c>. Three kinds: access tokens of the test identity provider (configured
/// as <c>Authentication:Schemes:Bearer</c> the way <c>dotnet user-jwts</c> does it), development-issuer tokens, and
/// stream tickets signed with the test ticket key.
/// </summary>
public static class TestTokens
{
    public const string Issuer = "https://idp.test";
    public const string Audience = "metrics-api-tests";
    public const string DevelopmentIssuer = "https://dev-issuer.localhost";
    public const string DevelopmentAudience = "metrics-api";
    public const string TicketIssuer = "metrics-api/stream-tickets";
    public const string TicketAudience = "metrics-api/stream";
    public const string TicketType = "metrics-stream+jwt";
    public const string DefaultUser = "test-user";

    public static readonly byte[] IdentityProviderKey = RandomNumberGenerator.GetBytes(32);
    public static readonly byte[] DevelopmentKey = RandomNumberGenerator.GetBytes(32);
    public static readonly byte[] TicketKey = RandomNumberGenerator.GetBytes(32);

    /// <summary>A long-lived metrics.read token for <see cref="DefaultUser"/>, what most streaming tests send.</summary>
    public static readonly string DefaultAccessToken = Access(DefaultUser, expires: DateTimeOffset.UtcNow.AddHours(6));

    /// <summary>The test identity provider as configuration, in the shape <c>dotnet user-jwts</c> writes.</summary>
    public static Dictionary<string, string?> BearerSettings() => new()
    {
        ["Authentication:Schemes:Bearer:ValidIssuer"] = Issuer,
        ["Authentication:Schemes:Bearer:ValidAudiences:0"] = Audience,
        ["Authentication:Schemes:Bearer:SigningKeys:0:Id"] = "test",
        ["Authentication:Schemes:Bearer:SigningKeys:0:Issuer"] = Issuer,
        ["Authentication:Schemes:Bearer:SigningKeys:0:Value"] = Convert.ToBase64String(IdentityProviderKey),
        ["Authentication:Schemes:Bearer:SigningKeys:0:Length"] = "32",
    };

    /// <summary>The AppHost's development issuer as configuration (Development environment only).</summary>
    public static Dictionary<string, string?> DevelopmentIssuerSettings() => new()
    {
        ["DevelopmentIssuer:SigningKey"] = Convert.ToBase64String(DevelopmentKey),
        ["DevelopmentIssuer:Issuer"] = DevelopmentIssuer,
        ["DevelopmentIssuer:Audience"] = DevelopmentAudience,
    };

    /// <summary>An access token from the test identity provider (typ JWT, HS256, scope metrics.read, 15 min).</summary>
    public static string Access(
        string subject = DefaultUser,
        string? scope = "metrics.read",
        DateTimeOffset? expires = null,
        DateTimeOffset? notBefore = null,
        Action<Dictionary<string, object?>>? claims = null,
        Action<Dictionary<string, object?>>? header = null,
        string algorithm = "HS256",
        byte[]? key = null)
    {
        var now = DateTimeOffset.UtcNow;
        var payload = new Dictionary<string, object?>
        {
            ["iss"] = Issuer,
            ["aud"] = Audience,
            ["sub"] = subject,
            ["iat"] = now.ToUnixTimeSeconds(),
            ["nbf"] = (notBefore ?? now.AddMinutes(-1)).ToUnixTimeSeconds(),
            ["exp"] = (expires ?? now.AddMinutes(15)).ToUnixTimeSeconds(),
        };
        if (scope is not null)
        {
            payload["scope"] = scope;
        }

        claims?.Invoke(payload);
        var head = new Dictionary<string, object?> { ["alg"] = algorithm, ["typ"] = "JWT" };
        header?.Invoke(head);
        return Create(head, payload, key ?? IdentityProviderKey);
    }

    /// <summary>An access token from the development issuer (typ at+jwt, HS256, as Dashboard.Web mints them).</summary>
    public static string Development(string subject = DefaultUser, DateTimeOffset? expires = null, Action<Dictionary<string, object?>>? header = null)
    {
        var now = DateTimeOffset.UtcNow;
        var head = new Dictionary<string, object?> { ["alg"] = "HS256", ["typ"] = "at+jwt" };
        header?.Invoke(head);
        return Create(
            head,
            new Dictionary<string, object?>
            {
                ["iss"] = DevelopmentIssuer,
                ["aud"] = DevelopmentAudience,
                ["sub"] = subject,
                ["name"] = "Developer",
                ["scope"] = "metrics.read",
                ["client_id"] = "dashboard-web",
                ["jti"] = Guid.NewGuid().ToString("N"),
                ["iat"] = now.ToUnixTimeSeconds(),
                ["nbf"] = now.ToUnixTimeSeconds(),
                ["exp"] = (expires ?? now.AddMinutes(15)).ToUnixTimeSeconds(),
            },
            DevelopmentKey);
    }

    /// <summary>A stream ticket forged with the ticket key (valid unless a test changes something).</summary>
    public static string Ticket(
        string subject = DefaultUser,
        string path = "/api/stream/metrics",
        DateTimeOffset? expires = null,
        DateTimeOffset? notBefore = null,
        DateTimeOffset? sessionExpires = null,
        Action<Dictionary<string, object?>>? claims = null,
        Action<Dictionary<string, object?>>? header = null,
        string algorithm = "HS256",
        byte[]? key = null)
    {
        var now = DateTimeOffset.UtcNow;
        var payload = new Dictionary<string, object?>
        {
            ["iss"] = TicketIssuer,
            ["aud"] = TicketAudience,
            ["sub"] = subject,
            ["scope"] = "metrics.read",
            ["path"] = path,
            ["jti"] = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(16)),
            ["session_exp"] = (sessionExpires ?? now.AddMinutes(15)).ToUnixTimeSeconds(),
            ["iat"] = now.ToUnixTimeSeconds(),
            ["nbf"] = (notBefore ?? now).ToUnixTimeSeconds(),
            ["exp"] = (expires ?? now.AddSeconds(30)).ToUnixTimeSeconds(),
        };
        claims?.Invoke(payload);
        var head = new Dictionary<string, object?> { ["alg"] = algorithm, ["typ"] = TicketType };
        header?.Invoke(head);
        return Create(head, payload, key ?? TicketKey);
    }

    /// <summary>
    /// A compact JWS. <c>alg</c> decides the signature: HS256/384/512 with <paramref name="key"/> as the HMAC secret,
    /// RS256 with <paramref name="rsa"/>, <c>none</c> with an empty signature. Null values are left out.
    /// </summary>
    public static string Create(IDictionary<string, object?> header, IDictionary<string, object?> payload, byte[]? key = null, RSA? rsa = null)
    {
        ArgumentNullException.ThrowIfNull(header);
        ArgumentNullException.ThrowIfNull(payload);
        var signingInput = $"{Segment(header)}.{Segment(payload)}";
        var data = Encoding.ASCII.GetBytes(signingInput);
        var signature = header["alg"] switch
        {
            "none" => [],
            "HS256" => HMACSHA256.HashData(key!, data),
            "HS384" => HMACSHA384.HashData(key!, data),
            "HS512" => HMACSHA512.HashData(key!, data),
            "RS256" => rsa!.SignData(data, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1),
            "RS384" => rsa!.SignData(data, HashAlgorithmName.SHA384, RSASignaturePadding.Pkcs1),
            "PS256" => rsa!.SignData(data, HashAlgorithmName.SHA256, RSASignaturePadding.Pss),
            var other => throw new ArgumentException($"Unsupported alg {other}."),
        };
        return $"{signingInput}.{Base64UrlEncoder.Encode(signature)}";
    }

    private static string Segment(IDictionary<string, object?> values) =>
        Base64UrlEncoder.Encode(JsonSerializer.SerializeToUtf8Bytes(values.Where(v => v.Value is not null).ToDictionary(v => v.Key, v => v.Value)));
}
