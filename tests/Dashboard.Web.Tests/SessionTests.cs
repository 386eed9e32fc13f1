using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dashboard.Web.Tests.Infrastructure;
using Microsoft.Net.Http.Headers;

namespace Dashboard.Web.Tests;

/// <summary>The browser's session: the cookies it gets, sign-in, sign-out, and what protects them.</summary>
public sealed class SessionTests : IAsyncLifetime
{
    private readonly DevelopmentIssuer _issuer = DevelopmentIssuer.CreateRandom();
    private DashboardApp _app = null!;

    public Task InitializeAsync()
    {
        _app = DashboardApp.Start(settings: _issuer.AsSettings());
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task SignedOutUser_IsReportedWithTheDevelopmentSignInMode()
    {
        using var browser = _app.CreateBrowser();
        using var response = await browser.GetAsync("/bff/user");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
        var user = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.False(user.GetProperty("isAuthenticated").GetBoolean());
        Assert.Equal(JsonValueKind.Null, user.GetProperty("name").ValueKind);
        Assert.Equal("development", user.GetProperty("signInMode").GetString());
    }

    [Fact]
    public async Task SignIn_SetsAHostPrefixedHttpOnlySecureSameSiteStrictSessionCookie()
    {
        using var browser = _app.CreateBrowser();
        await browser.SignInAsync("ada");

        var session = Assert.Single(browser.SetCookies, c => c.Name == "__Host-dashboard");
        Assert.True(session.HttpOnly);
        Assert.True(session.Secure);
        Assert.Equal(SameSiteMode.Strict, session.SameSite);
        Assert.Equal("/", session.Path.ToString());
        Assert.True(session.Domain.Value is null, "a __Host- cookie has no Domain");

        using var response = await browser.GetAsync("/bff/user");
        var user = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(user.GetProperty("isAuthenticated").GetBoolean());
        Assert.Equal("ada", user.GetProperty("name").GetString());
    }

    [Fact]
    public async Task AntiforgeryCookie_IsHostPrefixedHttpOnlySecureSameSiteStrict_AndTheTokenIsNotCached()
    {
        using var browser = _app.CreateBrowser();
        using var response = await browser.GetAsync("/bff/antiforgery");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("no-store", response.Headers.CacheControl?.ToString());
        var cookie = Assert.Single(browser.SetCookies, c => c.Name == "__Host-dashboard.af");
        Assert.True(cookie.HttpOnly);
        Assert.True(cookie.Secure);
        Assert.Equal(SameSiteMode.Strict, cookie.SameSite);
        Assert.Equal("/", cookie.Path.ToString());
    }

    [Fact]
    public async Task SignIn_WithoutAnAntiforgeryToken_Is400_AndSetsNoSession()
    {
        using var browser = _app.CreateBrowser();
        await browser.GetAntiforgeryTokenAsync(); // the cookie half alone is not enough

        using var response = await browser.PostAsync("/bff/login", new { userName = "mallory" }, antiforgeryToken: null);

        await AssertProblem(response, HttpStatusCode.BadRequest, "urn:dashboard:antiforgery");
        Assert.DoesNotContain(browser.SetCookies, c => c.Name == "__Host-dashboard");
    }

    [Fact]
    public async Task SignIn_WithAForgedFormPost_Is400()
    {
        // What a cross-site form can send: a form body, no header, no antiforgery cookie.
        using var browser = _app.CreateBrowser();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/bff/login")
        {
            Content = new FormUrlEncodedContent([new("userName", "victim"), new("__RequestVerificationToken", "forged")]),
        };
        using var response = await browser.SendAsync(request);

        await AssertProblem(response, HttpStatusCode.BadRequest, "urn:dashboard:antiforgery");
        Assert.DoesNotContain(browser.SetCookies, c => c.Name == "__Host-dashboard");
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("-leading-dash")]
    [InlineData("a<script>")]
    [InlineData("line\nbreak")]
    [InlineData("01234567890123456789012345678901234567890123456789012345678901234")]
    public async Task SignIn_RejectsUnusableUserNames(string userName)
    {
        using var browser = _app.CreateBrowser();
        using var response = await browser.PostAsync("/bff/login", new { userName }, await browser.GetAntiforgeryTokenAsync());

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.DoesNotContain(browser.SetCookies, c => c.Name == "__Host-dashboard");
    }

    [Theory]
    [InlineData("/dashboard?tab=2", "/dashboard?tab=2")]
    [InlineData("//evil.example/", "/")]
    [InlineData("/\\evil.example/", "/")]
    [InlineData("https://evil.example/", "/")]
    [InlineData("", "/")]
    public async Task FormSignIn_RedirectsToLocalReturnUrlsOnly(string returnUrl, string expected)
    {
        using var browser = _app.CreateBrowser();
        var token = await browser.GetAntiforgeryTokenAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/bff/login")
        {
            Content = new FormUrlEncodedContent([new("userName", "ada"), new("returnUrl", returnUrl), new("__RequestVerificationToken", token)]),
        };
        using var response = await browser.SendAsync(request);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal(expected, response.Headers.Location?.OriginalString);
        Assert.Contains(browser.SetCookies, c => c.Name == "__Host-dashboard");
    }

    [Fact]
    public async Task AntiforgeryTokenFromBeforeSignIn_IsRefusedAfterSignIn()
    {
        using var browser = _app.CreateBrowser();
        var anonymousToken = await browser.GetAntiforgeryTokenAsync();
        using (var signIn = await browser.PostAsync("/bff/login", new { userName = "ada" }, anonymousToken))
        {
            Assert.Equal(HttpStatusCode.OK, signIn.StatusCode);
        }

        using var response = await browser.PostAsync("/bff/stream-ticket", null, anonymousToken);
        await AssertProblem(response, HttpStatusCode.BadRequest, "urn:dashboard:antiforgery");
    }

    [Fact]
    public async Task SignOut_EndsTheSession()
    {
        using var browser = _app.CreateBrowser();
        var token = await browser.SignInAsync("ada");

        using var signOut = await browser.PostAsync("/bff/logout", null, token);
        Assert.Equal(HttpStatusCode.OK, signOut.StatusCode);
        var body = await signOut.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(JsonValueKind.Null, body.GetProperty("redirectUrl").ValueKind);
        Assert.False(browser.Cookies.ContainsKey("__Host-dashboard"));

        using var user = await browser.GetAsync("/bff/user");
        Assert.False((await user.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("isAuthenticated").GetBoolean());
    }

    [Fact]
    public async Task SignOut_WithoutAnAntiforgeryToken_Is400_AndKeepsTheSession()
    {
        using var browser = _app.CreateBrowser();
        await browser.SignInAsync("ada");

        using var response = await browser.PostAsync("/bff/logout", null, antiforgeryToken: null);

        await AssertProblem(response, HttpStatusCode.BadRequest, "urn:dashboard:antiforgery");
        using var user = await browser.GetAsync("/bff/user");
        Assert.True((await user.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("isAuthenticated").GetBoolean());
    }

    [Fact]
    public async Task ForgedSessionCookie_IsNotASession()
    {
        using var browser = _app.CreateBrowser();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/bff/user");
        request.Headers.Add("Cookie", "__Host-dashboard=CfDJ8forged");
        using var response = await browser.SendAsync(request);

        Assert.False((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("isAuthenticated").GetBoolean());
    }

    [Fact]
    public async Task AntiforgeryToken_IsRefusedOverPlainHttp()
    {
        // Not through the edge: no X-Forwarded-Proto, so the request is plain HTTP, where Secure
        // cookies cannot be trusted to round-trip.
        using var browser = _app.CreateBrowser(throughEdge: false);
        using var response = await browser.GetAsync("/bff/antiforgery");

        await AssertProblem(response, HttpStatusCode.BadRequest, "urn:dashboard:https-required");
        Assert.Empty(browser.SetCookies);
    }

    internal static async Task AssertProblem(HttpResponseMessage response, HttpStatusCode status, string type)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(type, problem.GetProperty("type").GetString());
        Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
    }
}
