using Dashboard.Web.Apis;
using Metrics.Api.Contracts;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;

namespace Dashboard.Web.Auth;

public static class BffAuthenticationExtensions
{
    /// <summary>The session cookie: <c>__Host-</c> (Secure, Path=/, no Domain), HttpOnly.</summary>
    public const string SessionCookieName = "__Host-dashboard";

    /// <summary>The policy the /bff endpoints that need a session use: cookie only, 401 instead of a redirect.</summary>
    public const string SessionPolicy = "bff-session";

    public const string OpenIdConnectSection = "Authentication:Schemes:OpenIdConnect";

    /// <summary>Where the OIDC handler leaves the IdP's end-session URL for POST /bff/logout.</summary>
    internal const string LogoutRedirectItem = "Dashboard.Web.LogoutRedirect";

    /// <summary>
    /// Cookie session for the browser, plus how sessions begin: OpenID Connect when configured, else (in
    /// Development only) the AppHost's development issuer, else no sign-in at all.
    /// </summary>
    public static TBuilder AddBffAuthentication<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        var signIn = ResolveSignIn(builder.Configuration, builder.Environment);
        var services = builder.Services;
        services.AddSingleton(signIn);
        services.TryAddTimeProvider();

        services.AddOptions<DevelopmentIssuerOptions>().BindConfiguration(DevelopmentIssuerOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<DevelopmentIssuerOptions>, DevelopmentIssuerOptionsValidator>();
        services.AddSingleton<DevelopmentTokenIssuer>();
        services.AddSingleton<AccessTokenSource>();

        var authentication = services
            .AddAuthentication(CookieAuthenticationDefaults.AuthenticationScheme)
            .AddCookie(options => ConfigureSessionCookie(options, signIn));

        if (signIn.Mode == SignInMode.OpenIdConnect)
        {
            authentication.AddOpenIdConnect(ConfigureOpenIdConnect);
            // A configured Scope list replaces the defaults; OpenID Connect needs openid whatever it says.
            services.PostConfigure<OpenIdConnectOptions>(OpenIdConnectDefaults.AuthenticationScheme, static options =>
            {
                if (!options.Scope.Contains("openid"))
                {
                    options.Scope.Add("openid");
                }
            });
        }

        services.AddAuthorizationBuilder()
            .AddPolicy(SessionPolicy, policy => policy
                .AddAuthenticationSchemes(CookieAuthenticationDefaults.AuthenticationScheme)
                .RequireAuthenticatedUser());
        return builder;
    }

    public static BffSignIn ResolveSignIn(IConfiguration configuration, IHostEnvironment environment)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(environment);
        var oidc = configuration.GetSection(OpenIdConnectSection);
        if (!string.IsNullOrWhiteSpace(oidc["Authority"]) && !string.IsNullOrWhiteSpace(oidc["ClientId"]))
        {
            return new BffSignIn(SignInMode.OpenIdConnect, DevelopmentIssuerRefused: false);
        }

        var developmentIssuerConfigured = !string.IsNullOrWhiteSpace(configuration[$"{DevelopmentIssuerOptions.SectionName}:SigningKey"]);
        if (developmentIssuerConfigured && environment.IsDevelopment())
        {
            return new BffSignIn(SignInMode.Development, DevelopmentIssuerRefused: false);
        }

        // A development key outside Development is a deployment mistake: never honour it.
        return new BffSignIn(SignInMode.None, DevelopmentIssuerRefused: developmentIssuerConfigured);
    }

    private static void ConfigureSessionCookie(CookieAuthenticationOptions options, BffSignIn signIn)
    {
        options.Cookie.Name = SessionCookieName;
        options.Cookie.HttpOnly = true;
        options.Cookie.SecurePolicy = CookieSecurePolicy.Always;
        options.Cookie.Path = "/";
        // Strict unless an IdP posts back to us cross-site: then Lax, or the first page after the
        // callback would arrive without the new cookie.
        options.Cookie.SameSite = signIn.Mode == SignInMode.OpenIdConnect ? SameSiteMode.Lax : SameSiteMode.Strict;
        options.ExpireTimeSpan = TimeSpan.FromHours(8);
        options.SlidingExpiration = true;

        // An API answers 401/403; it never redirects to a login page.
        options.Events.OnRedirectToLogin = static context => BffProblems.WriteAsync(context.HttpContext, BffProblems.SignedOut());
        options.Events.OnRedirectToAccessDenied = static context => BffProblems.WriteAsync(context.HttpContext, BffProblems.Forbidden());
        options.Events.OnRedirectToLogout = static context =>
        {
            context.Response.StatusCode = StatusCodes.Status204NoContent;
            return Task.CompletedTask;
        };

        if (signIn.Mode == SignInMode.OpenIdConnect)
        {
            // The session is only as good as its access token (no refresh token is kept).
            options.Events.OnValidatePrincipal = static async context =>
            {
                var expiresAt = AccessTokenSource.ReadExpiry(context.Properties.GetTokenValue("expires_at"));
                var now = context.HttpContext.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow();
                if (expiresAt is { } expiry && expiry - AccessTokenSource.ExpiryMargin <= now)
                {
                    context.RejectPrincipal();
                    await context.HttpContext.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
                }
            };
        }
    }

    /// <summary>
    /// Code flow with PKCE, tokens saved in the session, JWT claim names. Authority, ClientId,
    /// ClientSecret, Scope (which replaces the default openid/profile) and anything else come from
    /// <c>Authentication:Schemes:OpenIdConnect</c>, which ASP.NET Core binds after this runs.
    /// </summary>
    private static void ConfigureOpenIdConnect(OpenIdConnectOptions options)
    {
        options.SignInScheme = CookieAuthenticationDefaults.AuthenticationScheme;
        options.ResponseType = "code";
        options.UsePkce = true;
        options.SaveTokens = true;
        options.MapInboundClaims = false;
        options.GetClaimsFromUserInfoEndpoint = false;
        options.TokenValidationParameters.NameClaimType = BffClaims.Name;
        options.CallbackPath = "/bff/signin-oidc";
        options.SignedOutCallbackPath = "/bff/signout-callback-oidc";
        options.SignedOutRedirectUri = "/";

        // POST /bff/logout is a fetch(): hand the IdP's end-session URL to the page instead of a 302.
        options.Events.OnRedirectToIdentityProviderForSignOut = static context =>
        {
            if (context.HttpContext.Items.ContainsKey(LogoutRedirectItem))
            {
                context.HttpContext.Items[LogoutRedirectItem] = context.ProtocolMessage.CreateLogoutRequestUrl();
                context.HandleResponse();
            }

            return Task.CompletedTask;
        };
    }

    private static void TryAddTimeProvider(this IServiceCollection services)
    {
        if (!services.Any(d => d.ServiceType == typeof(TimeProvider)))
        {
            services.AddSingleton(TimeProvider.System);
        }
    }
}
