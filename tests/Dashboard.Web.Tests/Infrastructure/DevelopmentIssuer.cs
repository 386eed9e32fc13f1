using System.Security.Cryptography;

namespace Dashboard.Web.Tests.Infrastructure;

/// <summary>A development issuer as the AppHost makes one: a random key per run, issuer and audience.</summary>
public sealed record DevelopmentIssuer(string SigningKey, string Issuer, string Audience)
{
    public static DevelopmentIssuer CreateRandom() =>
        new(Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)), "https://dev-issuer.localhost", "metrics-api");

    public byte[] KeyBytes => Convert.FromBase64String(SigningKey);

    /// <summary>The environment variables the AppHost gives Dashboard.Web (as configuration keys).</summary>
    public IEnumerable<KeyValuePair<string, string?>> AsSettings() =>
    [
        new("DevelopmentIssuer:SigningKey", SigningKey),
        new("DevelopmentIssuer:Issuer", Issuer),
        new("DevelopmentIssuer:Audience", Audience),
    ];
}
