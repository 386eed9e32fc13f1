using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dashboard.Web.Tests.Infrastructure;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Dashboard.Web.Tests;

/// <summary>
/// The development sign-in mints access tokens from a user name alone: it must exist only when the
/// AppHost's development issuer is configured AND the environment is Development.
/// </summary>
public sealed class DevelopmentSignInSecurityTests
{
    private readonly DevelopmentIssuer _issuer = DevelopmentIssuer.CreateRandom();

    [Theory]
    [InlineData("Production")]
    [InlineData("Staging")]
    public async Task OutsideDevelopment_TheDevelopmentSignInDoesNotExist_EvenWithTheIssuerConfigured(string environment)
    {
        await using var app = DashboardApp.Start(environment, _issuer.AsSettings());
        using var browser = app.CreateBrowser();

        using var user = await browser.GetAsync("/bff/user");
        Assert.Equal("none", (await user.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("signInMode").GetString());

        using var signIn = await browser.PostAsync("/bff/login", new { userName = "ada" }, await browser.GetAntiforgeryTokenAsync());
        await SessionTests.AssertProblem(signIn, HttpStatusCode.NotFound, "urn:dashboard:not-found");
        Assert.DoesNotContain(browser.SetCookies, c => c.Name == "__Host-dashboard");

        Assert.Contains(app.Logs.GetSnapshot(), record => record.Id.Name == "DevelopmentIssuerRefused" && record.Level == Microsoft.Extensions.Logging.LogLevel.Warning);
    }

    [Fact]
    public async Task InDevelopment_WithoutTheIssuer_ThereIsNoSignIn()
    {
        await using var app = DashboardApp.Start("Development");
        using var browser = app.CreateBrowser();

        using var user = await browser.GetAsync("/bff/user");
        Assert.Equal("none", (await user.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("signInMode").GetString());
        using var signIn = await browser.PostAsync("/bff/login", new { userName = "ada" }, await browser.GetAntiforgeryTokenAsync());
        Assert.Equal(HttpStatusCode.NotFound, signIn.StatusCode);
    }

    [Theory]
    [InlineData("c2hvcnQ=", "https://dev-issuer.localhost", "metrics-api")] // 5 bytes
    [InlineData("not base64!", "https://dev-issuer.localhost", "metrics-api")]
    [InlineData(null, "not a uri", "metrics-api")]
    [InlineData(null, "https://dev-issuer.localhost", "")]
    public void InDevelopment_AWeakOrIncompleteIssuer_StopsTheStart(string? key, string issuer, string audience)
    {
        var settings = new Dictionary<string, string?>
        {
            ["DevelopmentIssuer:SigningKey"] = key ?? _issuer.SigningKey,
            ["DevelopmentIssuer:Issuer"] = issuer,
            ["DevelopmentIssuer:Audience"] = audience,
        };

        var failure = Assert.ThrowsAny<Exception>(() => DashboardApp.Start("Development", settings));
        Assert.IsType<OptionsValidationException>(failure.GetBaseException());
    }

    [Fact]
    public async Task WhenOpenIdConnectIsConfigured_ItWins_AndLoginIsAChallengeNotAPost()
    {
        var settings = new Dictionary<string, string?>(_issuer.AsSettings())
        {
            ["Authentication:Schemes:OpenIdConnect:Authority"] = "https://login.example.invalid/tenant/v2.0",
            ["Authentication:Schemes:OpenIdConnect:ClientId"] = "dashboard",
            ["Authentication:Schemes:OpenIdConnect:Scope:0"] = "api://metrics-api/metrics.read",
        };
        await using var app = DashboardApp.Start("Development", settings);
        using var browser = app.CreateBrowser();

        using var user = await browser.GetAsync("/bff/user");
        Assert.Equal("openIdConnect", (await user.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("signInMode").GetString());
        using var post = await browser.PostAsync("/bff/login", new { userName = "ada" }, await browser.GetAntiforgeryTokenAsync());
        Assert.Equal(HttpStatusCode.NotFound, post.StatusCode);
        Assert.DoesNotContain(browser.SetCookies, c => c.Name == "__Host-dashboard");

        var oidc = app.Services.GetRequiredService<IOptionsMonitor<OpenIdConnectOptions>>().Get(OpenIdConnectDefaults.AuthenticationScheme);
        // A configured Scope list replaces openid/profile; openid is put back.
        Assert.Equal(["api://metrics-api/metrics.read", "openid"], oidc.Scope.ToArray());
        Assert.True(oidc.SaveTokens);
        Assert.True(oidc.UsePkce);
        Assert.Equal("code", oidc.ResponseType);
        Assert.Equal("/bff/signin-oidc", oidc.CallbackPath.Value);

        // The identity provider posts back cross-site, so the session cookie is Lax, not Strict.
        var cookie = app.Services.GetRequiredService<IOptionsMonitor<CookieAuthenticationOptions>>().Get(CookieAuthenticationDefaults.AuthenticationScheme);
        Assert.Equal(SameSiteMode.Lax, cookie.Cookie.SameSite);
        Assert.True(cookie.Cookie.HttpOnly);
        Assert.Equal(CookieSecurePolicy.Always, cookie.Cookie.SecurePolicy);
    }

    [Fact]
    public async Task OpenIdConnectLogin_ChallengesTheProviderWithPkce_AndTheEdgesPublicCallback()
    {
        await using var provider = await OidcProviderStub.StartAsync();
        var settings = new Dictionary<string, string?>
        {
            ["Authentication:Schemes:OpenIdConnect:Authority"] = provider.Authority,
            ["Authentication:Schemes:OpenIdConnect:ClientId"] = "dashboard",
            ["Authentication:Schemes:OpenIdConnect:ClientSecret"] = "secret",
            ["Authentication:Schemes:OpenIdConnect:RequireHttpsMetadata"] = "false",
            ["Authentication:Schemes:OpenIdConnect:Scope:0"] = "openid",
            ["Authentication:Schemes:OpenIdConnect:Scope:1"] = "api://metrics-api/metrics.read",
        };
        await using var app = DashboardApp.Start("Production", settings);
        using var browser = app.CreateBrowser();

        using var response = await browser.GetAsync("/bff/login?returnUrl=%2Finstances");

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var location = response.Headers.Location!;
        Assert.StartsWith($"{provider.Authority}/authorize?", location.ToString(), StringComparison.Ordinal);
        var query = System.Web.HttpUtility.ParseQueryString(location.Query);
        Assert.Equal("dashboard", query["client_id"]);
        Assert.Equal("code", query["response_type"]);
        Assert.Equal("S256", query["code_challenge_method"]);
        Assert.False(string.IsNullOrEmpty(query["code_challenge"]));
        Assert.Equal("openid api://metrics-api/metrics.read", query["scope"]);
        // Behind the edge: the public origin from X-Forwarded-Proto/Host, not Kestrel's http://127.0.0.1.
        Assert.Equal("https://localhost:7443/bff/signin-oidc", query["redirect_uri"]);
        Assert.Null(query["client_secret"]);
    }

    [Fact]
    public async Task OpenIdConnect_StreamTicketWhenSignedOut_Is401_NotARedirect()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Authentication:Schemes:OpenIdConnect:Authority"] = "https://login.example.invalid/tenant/v2.0",
            ["Authentication:Schemes:OpenIdConnect:ClientId"] = "dashboard",
        };
        await using var app = DashboardApp.Start("Production", settings);
        using var browser = app.CreateBrowser();

        using var response = await browser.PostAsync("/bff/stream-ticket", null, await browser.GetAntiforgeryTokenAsync());

        await SessionTests.AssertProblem(response, HttpStatusCode.Unauthorized, "urn:dashboard:signed-out");
        Assert.Null(response.Headers.Location);
    }
}
