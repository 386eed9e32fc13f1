using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Metrics.Api.Contracts;

namespace AppHost.Tests.Infrastructure;

/// <summary>
/// Access tokens as Dashboard.Web's development issuer mints them, signed with a key the test gives the AppHost
/// (<c>--Parameters:development-issuer-signing-key</c>), so a test can call Metrics.Api as a signed-in user.
/// </summary>
internal sealed class DevelopmentAccessTokens
{
    public const string Issuer = "https://dev-issuer.localhost";
    public const string Audience = "metrics-api";

    public byte[] Key { get; } = RandomNumberGenerator.GetBytes(32);

    public string KeyBase64 => Convert.ToBase64String(Key);

    public string AppHostArgument => $"--Parameters:development-issuer-signing-key={KeyBase64}";

    /// <summary>An access token for <paramref name="user"/>, exactly as Dashboard.Web mints it (<see cref="DevelopmentTokens"/>).</summary>
    public string Mint(string user) => DevelopmentTokens.Mint(
        new DevelopmentIssuerOptions { SigningKey = KeyBase64, Issuer = Issuer, Audience = Audience }, user, user, DateTimeOffset.UtcNow).Token;

    /// <summary>Any JWS-shaped string, for tests that forge one (HS256 over whatever header and payload they give).</summary>
    public static string Jwt(object header, object payload, byte[] key)
    {
        var input = $"{Base64Url(JsonSerializer.SerializeToUtf8Bytes(header))}.{Base64Url(JsonSerializer.SerializeToUtf8Bytes(payload))}";
        return $"{input}.{Base64Url(HMACSHA256.HashData(key, Encoding.ASCII.GetBytes(input)))}";
    }

    /// <summary>Opens <c>/api/stream/metrics</c> with a bearer token (and a <c>Last-Event-ID</c> to resume after, if given).</summary>
    public static Task<SseConnection> OpenStreamAsync(HttpClient edge, string accessToken, CancellationToken cancellationToken, long? lastEventId = null) =>
        SseConnection.OpenAsync(
            edge,
            lastEventId: lastEventId?.ToString(System.Globalization.CultureInfo.InvariantCulture),
            configure: request => request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken),
            cancellationToken: cancellationToken);

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
