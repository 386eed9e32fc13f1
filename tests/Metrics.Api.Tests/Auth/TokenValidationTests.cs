using System.Net;
using System.Security.Cryptography;
using Metrics.Api.Auth;
using Metrics.Api.Tests.Infrastructure;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.Tokens;

namespace Metrics.Api.Tests.Auth;

/// <summary>
/// Forged, confused and mistimed tokens: each is refused with the right status and no stream is allocated; the
/// valid control case next to each passes.
/// </summary>
public class TokenValidationTests
{
    // Minted when each test runs, not at discovery: a ticket lives 30 s, and an expired one would be refused for
    // the wrong reason.
    private static readonly Dictionary<string, Func<string>> s_forgedTickets = new()
    {
        { "alg none", () => Forge.Ticket(header: h => h["alg"] = "none") },
        { "alg HS384 with the right key", () => Forge.Ticket(algorithm: "HS384") },
        { "alg HS512 with the right key", () => Forge.Ticket(algorithm: "HS512") },
        { "another key", () => Forge.Ticket(key: RandomNumberGenerator.GetBytes(32)) },
        { "the access tokens' key", () => Forge.Ticket(key: TestTokens.IdentityProviderKey) },
        { "typ JWT", () => Forge.Ticket(header: h => h["typ"] = "JWT") },
        { "typ at+jwt", () => Forge.Ticket(header: h => h["typ"] = "at+jwt") },
        { "no typ", () => Forge.Ticket(header: h => h["typ"] = null) },
        { "wrong iss", () => Forge.Ticket(claims: c => c["iss"] = "https://idp.test") },
        { "wrong aud", () => Forge.Ticket(claims: c => c["aud"] = TestTokens.Audience) },
        { "no aud", () => Forge.Ticket(claims: c => c["aud"] = null) },
        { "no exp", () => Forge.Ticket(claims: c => c["exp"] = null) },
        { "no jti", () => Forge.Ticket(claims: c => c["jti"] = null) },
        { "no sub", () => Forge.Ticket(claims: c => c["sub"] = null) },
        { "no session_exp", () => Forge.Ticket(claims: c => c["session_exp"] = null) },
        { "session ended", () => Forge.Ticket(sessionExpires: DateTimeOffset.UtcNow.AddSeconds(-5)) },
        { "another path", () => Forge.Ticket(path: "/api/stream/other") },
        { "no path", () => Forge.Ticket(claims: c => c["path"] = null) },
        { "tampered payload", () => Forge.Tampered(TestTokens.Ticket(subject: "mallory")) },
        { "an encrypted-looking token", () => "eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..AAAA.BBBB.CCCC" },
        { "garbage", () => "not-a-jwt" },
    };

    private static readonly Dictionary<string, Func<string>> s_forgedAccessTokens = new()
    {
        { "alg none", () => TestTokens.Access(header: h => h["alg"] = "none") },
        { "alg HS512 with the right key", () => TestTokens.Access(algorithm: "HS512") },
        { "another key", () => TestTokens.Access(key: RandomNumberGenerator.GetBytes(32)) },
        { "the ticket key", () => TestTokens.Access(key: TestTokens.TicketKey) },
        { "typ metrics-stream+jwt", () => TestTokens.Access(header: h => h["typ"] = "metrics-stream+jwt") },
        { "wrong iss", () => TestTokens.Access(claims: c => c["iss"] = "https://evil.example") },
        { "wrong aud", () => TestTokens.Access(claims: c => c["aud"] = "someone-else") },
        { "the ticket audience", () => TestTokens.Access(claims: c => c["aud"] = TestTokens.TicketAudience) },
        { "no aud", () => TestTokens.Access(claims: c => c["aud"] = null) },
        { "no exp", () => TestTokens.Access(claims: c => c["exp"] = null) },
        { "a stream ticket", () => TestTokens.Ticket() },
        { "tampered payload", () => Forge.Tampered(TestTokens.Access("mallory")) },
        { "garbage", () => "not-a-jwt" },
    };

    public static TheoryData<string> ForgedTickets() => [.. s_forgedTickets.Keys];

    public static TheoryData<string> ForgedAccessTokens() => [.. s_forgedAccessTokens.Keys];

    [Theory]
    [MemberData(nameof(ForgedTickets))]
    public async Task A_forged_or_wrong_ticket_is_401_and_opens_nothing(string why)
    {
        var ticket = s_forgedTickets[why]();
        await using var app = await TestApp.StartAsync();
        using var client = app.CreateH2cClient(null);

        var answer = await Requests.GetAsync(client, Requests.TicketQuery(ticket));

        Assert.True(answer.Status == HttpStatusCode.Unauthorized, $"{why}: {answer.Status}");
        Assert.DoesNotContain(ticket, answer.AllText, StringComparison.Ordinal);
        // No oracle: the challenge says nothing about why.
        Assert.All(answer.Headers.WwwAuthenticate, h => Assert.Null(h.Parameter));
        app.AssertNoStreamAllocated();
        Assert.Equal(HttpStatusCode.OK, (await Requests.GetAsync(client, Requests.TicketQuery(TestTokens.Ticket()))).Status);
    }

    [Theory]
    [MemberData(nameof(ForgedAccessTokens))]
    public async Task A_forged_or_wrong_access_token_is_401_on_the_stream_and_the_ticket_endpoint(string why)
    {
        var token = s_forgedAccessTokens[why]();
        await using var app = await TestApp.StartAsync(TestTokens.DevelopmentIssuerSettings());
        using var client = app.CreateHttp1Client(null);

        var stream = await Requests.GetAsync(client, SseConnection.StreamPath, token);
        var minting = await Requests.PostTicketAsync(client, token);

        Assert.True(stream.Status == HttpStatusCode.Unauthorized, $"{why}: {stream.Status}");
        Assert.True(minting.Status == HttpStatusCode.Unauthorized, $"{why}: {minting.Status}");
        Assert.DoesNotContain(token, stream.AllText + minting.AllText, StringComparison.Ordinal);
        app.AssertNoStreamAllocated();
    }

    /// <summary>Tickets: skew 5 s, tested 3 s inside and 4 s outside each edge, and far outside (the 5-minute default).</summary>
    [Theory]
    [InlineData(-2, 0, HttpStatusCode.OK)]
    [InlineData(-9, 0, HttpStatusCode.Unauthorized)]
    [InlineData(-120, 0, HttpStatusCode.Unauthorized)]
    [InlineData(30, 2, HttpStatusCode.OK)]
    [InlineData(30, 9, HttpStatusCode.Unauthorized)]
    [InlineData(120, 60, HttpStatusCode.Unauthorized)]
    public async Task Ticket_lifetime_is_checked_with_a_five_second_skew(int expiresInSeconds, int notBeforeInSeconds, HttpStatusCode expected)
    {
        await using var app = await TestApp.StartAsync();
        using var client = app.CreateH2cClient(null);
        var now = DateTimeOffset.UtcNow;
        // nbf never after exp (that is a malformed token, refused for another reason).
        var notBefore = Math.Min(notBeforeInSeconds, expiresInSeconds - 1);
        var ticket = TestTokens.Ticket(expires: now.AddSeconds(expiresInSeconds), notBefore: now.AddSeconds(notBefore));

        var answer = await Requests.GetAsync(client, Requests.TicketQuery(ticket));

        Assert.Equal(expected, answer.Status);
        Assert.Equal(expected == HttpStatusCode.OK ? 1 : 0, app.StreamsOpened);
    }

    /// <summary>Access tokens: skew 30 s, tested 10 s inside and outside each edge.</summary>
    [Theory]
    [InlineData(-20, -60, HttpStatusCode.OK)]
    [InlineData(-40, -60, HttpStatusCode.Unauthorized)]
    [InlineData(-360, -600, HttpStatusCode.Unauthorized)]
    [InlineData(600, 20, HttpStatusCode.OK)]
    [InlineData(600, 40, HttpStatusCode.Unauthorized)]
    public async Task Access_token_lifetime_is_checked_with_a_thirty_second_skew(int expiresInSeconds, int notBeforeInSeconds, HttpStatusCode expected)
    {
        await using var app = await TestApp.StartAsync();
        using var client = app.CreateH2cClient(null);
        var now = DateTimeOffset.UtcNow;
        var token = TestTokens.Access(expires: now.AddSeconds(expiresInSeconds), notBefore: now.AddSeconds(notBeforeInSeconds));

        var answer = await Requests.GetAsync(client, SseConnection.StreamPath, token);

        Assert.Equal(expected, answer.Status);
        Assert.Equal(expected == HttpStatusCode.OK ? 1 : 0, app.StreamsOpened);
    }

    [Fact]
    public async Task An_rsa_public_key_never_works_as_an_hmac_secret_and_algorithms_are_pinned()
    {
        using var rsa = RSA.Create(2048);
        var publicKey = new RsaSecurityKey(rsa.ExportParameters(includePrivateParameters: false));
        await using var app = await TestApp.StartAsync(configureServices: services =>
            // An identity provider that signs RS256, like Entra ID: its public key is the only key.
            services.PostConfigure<JwtBearerOptions>(MetricsAuth.BearerScheme, options =>
            {
                options.TokenValidationParameters.IssuerSigningKey = null;
                options.TokenValidationParameters.IssuerSigningKeys = [publicKey];
            }));
        using var client = app.CreateHttp1Client(null);
        Dictionary<string, object?> Claims() => new()
        {
            ["iss"] = TestTokens.Issuer,
            ["aud"] = TestTokens.Audience,
            ["sub"] = "mallory",
            ["scope"] = "metrics.read",
            ["exp"] = DateTimeOffset.UtcNow.AddMinutes(5).ToUnixTimeSeconds(),
        };

        var legitimate = TestTokens.Create(new Dictionary<string, object?> { ["alg"] = "RS256", ["typ"] = "JWT" }, Claims(), rsa: rsa);
        Assert.Equal(HttpStatusCode.OK, (await Requests.PostTicketAsync(client, legitimate)).Status);

        var forgeries = new[]
        {
            // The public key's bytes as the HMAC secret (RFC 8725 §2.1), in the usual encodings.
            TestTokens.Create(new Dictionary<string, object?> { ["alg"] = "HS256", ["typ"] = "JWT" }, Claims(), key: rsa.ExportSubjectPublicKeyInfo()),
            TestTokens.Create(new Dictionary<string, object?> { ["alg"] = "HS256", ["typ"] = "JWT" }, Claims(), key: rsa.ExportRSAPublicKey()),
            TestTokens.Create(new Dictionary<string, object?> { ["alg"] = "HS256", ["typ"] = "JWT" }, Claims(), key: System.Text.Encoding.ASCII.GetBytes(rsa.ExportSubjectPublicKeyInfoPem())),
            TestTokens.Create(new Dictionary<string, object?> { ["alg"] = "HS256", ["typ"] = "JWT" }, Claims(), key: rsa.ExportParameters(false).Modulus),
            // Real RSA signatures, but algorithms outside ValidAlgorithms.
            TestTokens.Create(new Dictionary<string, object?> { ["alg"] = "RS384", ["typ"] = "JWT" }, Claims(), rsa: rsa),
            TestTokens.Create(new Dictionary<string, object?> { ["alg"] = "PS256", ["typ"] = "JWT" }, Claims(), rsa: rsa),
            TestTokens.Create(new Dictionary<string, object?> { ["alg"] = "none", ["typ"] = "JWT" }, Claims()),
        };
        foreach (var forged in forgeries)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await Requests.GetAsync(client, SseConnection.StreamPath, forged)).Status);
            Assert.Equal(HttpStatusCode.Unauthorized, (await Requests.PostTicketAsync(client, forged)).Status);
        }

        app.AssertNoStreamAllocated();
    }

    [Fact]
    public async Task The_development_issuer_is_trusted_only_when_configured_and_only_with_its_own_type_and_key()
    {
        await using (var withIssuer = await TestApp.StartAsync(TestTokens.DevelopmentIssuerSettings()))
        {
            using var client = withIssuer.CreateHttp1Client(null);
            Assert.Equal(HttpStatusCode.OK, (await Requests.PostTicketAsync(client, TestTokens.Development())).Status);
            Assert.Equal(HttpStatusCode.OK, (await Requests.GetAsync(client, SseConnection.StreamPath, TestTokens.Development())).Status);
            // Its key with another type, or the identity provider's issuer: refused.
            Assert.Equal(HttpStatusCode.Unauthorized, (await Requests.GetAsync(client, SseConnection.StreamPath, TestTokens.Development(header: h => h["typ"] = "JWT"))).Status);
            var devKeyClaimingIdp = TestTokens.Access(key: TestTokens.DevelopmentKey, header: h => h["typ"] = "at+jwt");
            Assert.Equal(HttpStatusCode.Unauthorized, (await Requests.GetAsync(client, SseConnection.StreamPath, devKeyClaimingIdp)).Status);
            // The real identity provider still works next to it.
            Assert.Equal(HttpStatusCode.OK, (await Requests.GetAsync(client, SseConnection.StreamPath, TestTokens.DefaultAccessToken)).Status);
        }

        await using var without = await TestApp.StartAsync();
        using var plain = without.CreateHttp1Client(null);
        Assert.Equal(HttpStatusCode.Unauthorized, (await Requests.GetAsync(plain, SseConnection.StreamPath, TestTokens.Development())).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await Requests.PostTicketAsync(plain, TestTokens.Development())).Status);
        without.AssertNoStreamAllocated();
    }

    /// <summary>Forgeries of a ticket that is otherwise valid.</summary>
    private static class Forge
    {
        public static string Ticket(
            Action<Dictionary<string, object?>>? header = null,
            Action<Dictionary<string, object?>>? claims = null,
            string algorithm = "HS256",
            byte[]? key = null,
            string path = SseConnection.StreamPath,
            DateTimeOffset? sessionExpires = null) =>
            TestTokens.Ticket(path: path, sessionExpires: sessionExpires, claims: claims, header: header, algorithm: algorithm, key: key);

        /// <summary>The signature of one token on the payload of another.</summary>
        public static string Tampered(string token)
        {
            var parts = token.Split('.');
            var payload = System.Text.Encoding.UTF8.GetString(Base64UrlEncoder.DecodeBytes(parts[1])).Replace("mallory", "admin", StringComparison.Ordinal);
            return $"{parts[0]}.{Base64UrlEncoder.Encode(System.Text.Encoding.UTF8.GetBytes(payload))}.{parts[2]}";
        }
    }
}
