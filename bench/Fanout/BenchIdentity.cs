using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Fanout;

/// <summary>
/// A development issuer of the benchmark's own: Metrics.Api (in Development) trusts it through the
/// DevelopmentIssuer settings, and every stream presents one bearer token for one user.
/// </summary>
internal static class BenchIdentity
{
    public const string Issuer = "https://bench-issuer.localhost";
    public const string Audience = "metrics-api";

    public static string SigningKey { get; } = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    public static string TicketKey { get; } = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    public static string AccessToken()
    {
        var now = DateTime.UtcNow;
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = Issuer,
            Audience = Audience,
            TokenType = "at+jwt",
            IssuedAt = now,
            NotBefore = now.AddSeconds(-5),
            Expires = now.AddHours(2),
            Subject = new ClaimsIdentity([new Claim("sub", "bench-user"), new Claim("name", "Bench user"), new Claim("scope", "metrics.read")]),
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(Convert.FromBase64String(SigningKey)), SecurityAlgorithms.HmacSha256),
        });
    }
}
