using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dashboard.Web.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Tests.Shared;

namespace Dashboard.Web.Tests;

/// <summary>
/// POST /bff/stream-ticket: cookie + antiforgery in, Metrics.Api's ticket out, with the user's access
/// token on the server-to-server hop only. The upstream is a real Kestrel server that validates the
/// token with the development issuer's key.
/// </summary>
public sealed class StreamTicketTests
{
    private readonly DevelopmentIssuer _issuer = DevelopmentIssuer.CreateRandom();

    [Fact]
    public async Task SignedOut_Is401ProblemJson_AndNothingReachesMetricsApi()
    {
        await using var upstream = await TicketUpstream.StartAsync(_issuer);
        await using var app = DashboardApp.Start(settings: [.. _issuer.AsSettings(), .. upstream.AsServiceDiscoverySettings()]);
        using var browser = app.CreateBrowser();

        using var response = await browser.PostAsync("/bff/stream-ticket", new { path = "/api/stream/metrics" }, await browser.GetAntiforgeryTokenAsync());

        await SessionTests.AssertProblem(response, HttpStatusCode.Unauthorized, "urn:dashboard:signed-out");
        Assert.Null(response.Headers.Location);
        Assert.Empty(upstream.Received);
    }

    [Fact]
    public async Task SignedOut_WithNoBodyAndNoToken_Is401()
    {
        await using var app = DashboardApp.Start(settings: _issuer.AsSettings());
        using var browser = app.CreateBrowser();

        using var response = await browser.PostAsync("/bff/stream-ticket", null, antiforgeryToken: null);

        await SessionTests.AssertProblem(response, HttpStatusCode.Unauthorized, "urn:dashboard:signed-out");
    }

    [Fact]
    public async Task MissingAntiforgeryToken_Is400_AndNothingReachesMetricsApi()
    {
        await using var upstream = await TicketUpstream.StartAsync(_issuer);
        await using var app = DashboardApp.Start(settings: [.. _issuer.AsSettings(), .. upstream.AsServiceDiscoverySettings()]);
        using var browser = app.CreateBrowser();
        await browser.SignInAsync("ada");

        using var response = await browser.PostAsync("/bff/stream-ticket", new { path = "/api/stream/metrics" }, antiforgeryToken: null);

        await SessionTests.AssertProblem(response, HttpStatusCode.BadRequest, "urn:dashboard:antiforgery");
        Assert.Empty(upstream.Received);
    }

    [Fact]
    public async Task AntiforgeryTokenOfAnotherSession_Is400()
    {
        await using var upstream = await TicketUpstream.StartAsync(_issuer);
        await using var app = DashboardApp.Start(settings: [.. _issuer.AsSettings(), .. upstream.AsServiceDiscoverySettings()]);
        using var mallory = app.CreateBrowser();
        var malloryToken = await mallory.SignInAsync("mallory");
        using var ada = app.CreateBrowser();
        await ada.SignInAsync("ada");

        using var response = await ada.PostAsync("/bff/stream-ticket", null, malloryToken);

        await SessionTests.AssertProblem(response, HttpStatusCode.BadRequest, "urn:dashboard:antiforgery");
        Assert.Empty(upstream.Received);
    }

    [Fact]
    public async Task RelaysTheTicket_AfterMetricsApiValidatedTheDevelopmentAccessToken()
    {
        await using var upstream = await TicketUpstream.StartAsync(_issuer);
        await using var app = DashboardApp.Start(settings: [.. _issuer.AsSettings(), .. upstream.AsServiceDiscoverySettings()]);
        using var browser = app.CreateBrowser();
        var token = await browser.SignInAsync("ada");
        var before = DateTimeOffset.UtcNow;

        using var response = await browser.PostAsync("/bff/stream-ticket", new { path = "/api/stream/metrics" }, token);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
        var text = await response.Content.ReadAsStringAsync();
        var ticket = JsonDocument.Parse(text).RootElement;
        Assert.StartsWith("ticket-", ticket.GetProperty("ticket").GetString());
        Assert.True(DateTimeOffset.Parse(ticket.GetProperty("expiresAt").GetString()!, System.Globalization.CultureInfo.InvariantCulture) > before);
        Assert.True(ticket.TryGetProperty("sessionExpiresAt", out _));

        // What Metrics.Api saw: a valid at+jwt for ada, minted with the development key.
        var received = Assert.Single(upstream.Received);
        Assert.Equal("/api/stream/metrics", received.Path);
        Assert.Equal("ada", received.User.FindFirst("sub")?.Value);
        Assert.Equal("ada", received.User.Identity?.Name);
        Assert.Equal("metrics.read", received.User.FindFirst("scope")?.Value);
        Assert.Equal("at+jwt", received.Token.Typ);
        Assert.Equal("HS256", received.Token.Alg);
        Assert.Equal(_issuer.Issuer, received.Token.Issuer);
        Assert.Equal([_issuer.Audience], received.Token.Audiences);
        Assert.InRange(received.Token.ValidTo - received.Token.IssuedAt, TimeSpan.FromMinutes(14.9), TimeSpan.FromMinutes(15.1));

        // The access token itself never reaches the browser.
        Assert.DoesNotContain(received.Authorization["Bearer ".Length..], text, StringComparison.Ordinal);
        Assert.DoesNotContain(browser.SetCookies, c => c.Value.ToString().Contains(received.Token.EncodedPayload, StringComparison.Ordinal));
    }

    [Fact]
    public async Task UnknownStreamPath_Is400_AndNothingReachesMetricsApi()
    {
        await using var upstream = await TicketUpstream.StartAsync(_issuer);
        await using var app = DashboardApp.Start(settings: [.. _issuer.AsSettings(), .. upstream.AsServiceDiscoverySettings()]);
        using var browser = app.CreateBrowser();
        var token = await browser.SignInAsync("ada");

        using var response = await browser.PostAsync("/bff/stream-ticket", new { path = "/api/admin" }, token);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Empty(upstream.Received);
    }

    [Fact]
    public async Task MetricsApiDown_Is502ProblemJson_Promptly()
    {
        var closedPort = LoopbackPort.Free();
        await using var app = DashboardApp.Start(settings: [.. _issuer.AsSettings(), new("services:metrics-api:http:0", $"http://127.0.0.1:{closedPort}")]);
        using var browser = app.CreateBrowser();
        var token = await browser.SignInAsync("ada");
        var stopwatch = Stopwatch.StartNew();

        using var response = await browser.PostAsync("/bff/stream-ticket", null, token);

        await SessionTests.AssertProblem(response, HttpStatusCode.BadGateway, "urn:dashboard:metrics-api-unavailable");
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(10), $"took {stopwatch.Elapsed}");
    }

    [Fact]
    public async Task MetricsApiFailing_Is502ProblemJson()
    {
        await using var upstream = await TicketUpstream.StartAsync(_issuer);
        upstream.FailWith = StatusCodes.Status503ServiceUnavailable;
        await using var app = DashboardApp.Start(settings: [.. _issuer.AsSettings(), .. upstream.AsServiceDiscoverySettings()]);
        using var browser = app.CreateBrowser();
        var token = await browser.SignInAsync("ada");

        using var response = await browser.PostAsync("/bff/stream-ticket", null, token);

        await SessionTests.AssertProblem(response, HttpStatusCode.BadGateway, "urn:dashboard:metrics-api-unavailable");
        // The standard resilience handler retried the transient 503 (two retries).
        Assert.Equal(3, upstream.Received.Count);
    }

    [Fact]
    public async Task MetricsApiWithAnotherDevelopmentKey_RefusesTheToken_AndThePageGetsA502ItCanExplain()
    {
        await using var upstream = await TicketUpstream.StartAsync(DevelopmentIssuer.CreateRandom());
        await using var app = DashboardApp.Start(settings: [.. _issuer.AsSettings(), .. upstream.AsServiceDiscoverySettings()]);
        using var browser = app.CreateBrowser();
        var token = await browser.SignInAsync("ada");

        using var response = await browser.PostAsync("/bff/stream-ticket", null, token);

        await SessionTests.AssertProblem(response, HttpStatusCode.BadGateway, "urn:dashboard:metrics-api-unavailable");
        Assert.Equal(1, upstream.Refused);
        Assert.Empty(upstream.Received);
        // The session itself is fine: a development token is minted per request.
        using var user = await browser.GetAsync("/bff/user");
        Assert.True((await user.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("isAuthenticated").GetBoolean());
    }

    [Fact]
    public async Task TicketsAreRateLimitedPerUser()
    {
        await using var upstream = await TicketUpstream.StartAsync(_issuer);
        await using var app = DashboardApp.Start(settings: [.. _issuer.AsSettings(), .. upstream.AsServiceDiscoverySettings()]);
        using var ada = app.CreateBrowser();
        var adaToken = await ada.SignInAsync("ada");

        // A few more than the budget: a replenishment tick of the token bucket may land inside the loop
        // on a slow machine, so the exact count may be one over, but the limit must bite.
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < Dashboard.Web.Apis.BffApiExtensions.StreamTicketsPerMinute + 5; i++)
        {
            using var response = await ada.PostAsync("/bff/stream-ticket", null, adaToken);
            statuses.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                await SessionTests.AssertProblem(response, HttpStatusCode.TooManyRequests, "urn:dashboard:rate-limited");
                Assert.NotNull(response.Headers.RetryAfter);
            }
        }

        var allowed = statuses.Count(s => s == HttpStatusCode.OK);
        Assert.InRange(allowed, Dashboard.Web.Apis.BffApiExtensions.StreamTicketsPerMinute, Dashboard.Web.Apis.BffApiExtensions.StreamTicketsPerMinute + 1);
        Assert.All(statuses.Take(Dashboard.Web.Apis.BffApiExtensions.StreamTicketsPerMinute), s => Assert.Equal(HttpStatusCode.OK, s));
        Assert.Equal(HttpStatusCode.TooManyRequests, statuses[^1]);

        // Another user has their own budget.
        using var grace = app.CreateBrowser();
        using var graceResponse = await grace.PostAsync("/bff/stream-ticket", null, await grace.SignInAsync("grace"));
        Assert.Equal(HttpStatusCode.OK, graceResponse.StatusCode);
    }
}
