using System.Security.Claims;
using Metrics.Api.Auth;
using Metrics.Api.Streaming;
using Metrics.Api.Tests.Infrastructure;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Features.Authentication;
using Microsoft.IdentityModel.Tokens;

namespace Metrics.Api.Tests.Auth;

/// <summary>
/// An open stream keeps who the caller is, not the credential: no token text in its headers or query, no parsed token
/// behind its principal, no saved token in its authentication result; the claims stay and the stream still works.
/// </summary>
public class CredentialReleaseTests
{
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(15);

    [Theory]
    [InlineData("bearer")]
    [InlineData("development")]
    public async Task A_stream_opened_with_an_access_token_keeps_its_claims_and_not_the_token(string issuer)
    {
        var capture = new LiveRequests(SseConnection.StreamPath);
        await using var app = await TestApp.StartAsync(TestTokens.DevelopmentIssuerSettings(), capture.Register);
        var accessToken = issuer == "bearer" ? TestTokens.Access("carol") : TestTokens.Development("carol");
        using var client = app.CreateH2cClient(accessToken);

        await using var stream = await SseConnection.OpenAsync(client, $"{SseConnection.StreamPath}?probe=kept");
        Assert.Equal(ControlEvents.ReadyType, (await stream.ReadAsync(s_wait))?.EventType);
        var request = Assert.Single(capture.Seen);

        Assert.Equal(0, request.Request.Headers.Authorization.Count);
        Assert.Equal("kept", request.Request.Query["probe"]);
        AssertClaimsWithoutToken(request.User, "carol");
        var authenticated = request.Features.Get<IAuthenticateResultFeature>()?.AuthenticateResult;
        Assert.NotNull(authenticated?.Principal);
        AssertClaimsWithoutToken(authenticated.Principal, "carol");
        Assert.DoesNotContain(authenticated.Properties!.Items.Keys, key => key.StartsWith(".Token.", StringComparison.Ordinal));

        var id = await app.PublishAsync();
        Assert.Equal(id.ToString(System.Globalization.CultureInfo.InvariantCulture), (await stream.ReadAsync(s_wait))?.EventId);
    }

    [Fact]
    public async Task A_stream_opened_with_a_ticket_drops_the_ticket_from_its_query_and_raw_target()
    {
        var capture = new LiveRequests(SseConnection.StreamPath);
        await using var app = await TestApp.StartAsync(configureServices: capture.Register);
        using var client = app.CreateH2cClient(null);
        var ticket = await Requests.TicketAsync(client, TestTokens.Access("dave"));

        await using var stream = await SseConnection.OpenAsync(client, $"{Requests.TicketQuery(ticket)}&probe=kept");
        Assert.Equal(ControlEvents.ReadyType, (await stream.ReadAsync(s_wait))?.EventType);
        var request = Assert.Single(capture.Seen);

        Assert.False(request.Request.Query.ContainsKey(MetricsAuth.TicketQueryParameter));
        Assert.Equal("kept", request.Request.Query["probe"]);
        Assert.Equal("?probe=kept", request.Request.QueryString.Value);
        var rawTarget = request.Features.GetRequiredFeature<IHttpRequestFeature>().RawTarget;
        Assert.Equal($"{SseConnection.StreamPath}?probe=kept", rawTarget);
        AssertClaimsWithoutToken(request.User, "dave");

        var id = await app.PublishAsync();
        Assert.Equal(id.ToString(System.Globalization.CultureInfo.InvariantCulture), (await stream.ReadAsync(s_wait))?.EventId);
    }

    [Fact]
    public void The_claims_only_copy_keeps_claims_name_roles_and_case_sensitive_lookups()
    {
        var original = new CaseSensitiveClaimsIdentity(
            [new Claim("sub", "erin", ClaimValueTypes.String, "issuer-a", "issuer-o"), new Claim("name", "Erin"), new Claim("roles", "metrics.read")],
            "Bearer",
            "name",
            "roles");
        original.Claims.First().Properties["kept?"] = "no";

        var copy = CredentialRelease.ClaimsOnly(new ClaimsPrincipal(original));

        var identity = Assert.IsType<CaseSensitiveClaimsIdentity>(Assert.Single(copy.Identities));
        Assert.NotSame(original, identity);
        Assert.Equal(
            original.Claims.Select(c => (c.Type, c.Value, c.ValueType, c.Issuer, c.OriginalIssuer)),
            identity.Claims.Select(c => (c.Type, c.Value, c.ValueType, c.Issuer, c.OriginalIssuer)));
        Assert.All(identity.Claims, c => Assert.Same(identity, c.Subject));
        Assert.Empty(identity.Claims.First().Properties);
        Assert.True(identity.IsAuthenticated);
        Assert.Equal("Bearer", identity.AuthenticationType);
        Assert.Equal("Erin", copy.Identity?.Name);
        Assert.True(copy.IsInRole("metrics.read"));
        Assert.Null(copy.FindFirst("SUB"));
        Assert.Equal("erin", copy.FindFirst("sub")?.Value);
    }

    [Fact]
    public void Removing_the_credential_keeps_every_other_parameter_and_ignores_the_parameters_case()
    {
        var context = new DefaultHttpContext();
        context.Request.Path = "/api/stream/metrics";
        context.Request.QueryString = new QueryString("?a=1&TICKET=secret&b=two%20words");
        context.Request.Headers.Authorization = "Bearer secret";

        CredentialRelease.RemoveFrom(context.Request);

        Assert.Equal(0, context.Request.Headers.Authorization.Count);
        Assert.Equal("?a=1&b=two%20words", context.Request.QueryString.Value);
        Assert.Equal("/api/stream/metrics?a=1&b=two%20words", context.Features.GetRequiredFeature<IHttpRequestFeature>().RawTarget);
    }

    private static void AssertClaimsWithoutToken(ClaimsPrincipal user, string subject)
    {
        Assert.True(user.Identity?.IsAuthenticated);
        Assert.Equal(subject, user.FindFirst("sub")?.Value);
        Assert.True(ReadScopeRequirement.IsSatisfiedBy(user));
        Assert.All(user.Identities, identity => Assert.Null(Assert.IsType<CaseSensitiveClaimsIdentity>(identity).SecurityToken));
    }
}
