using Metrics.Api.Contracts;

namespace Dashboard.Web.Auth;

/// <summary>How users sign in to the dashboard; decided once at start-up from configuration.</summary>
public enum SignInMode
{
    /// <summary>No sign-in is configured: everyone is signed out and the page says so.</summary>
    None,

    /// <summary>
    /// Development only: a user name is enough, and Dashboard.Web mints the access token itself with
    /// the AppHost's development issuer key (<see cref="DevelopmentIssuerOptions"/>).
    /// </summary>
    Development,

    /// <summary>OpenID Connect (Entra ID) from <c>Authentication:Schemes:OpenIdConnect</c>; the saved access token is used.</summary>
    OpenIdConnect,
}

/// <summary>The sign-in mode in force, and why the development issuer was refused if it was.</summary>
public sealed record BffSignIn(SignInMode Mode, bool DevelopmentIssuerRefused)
{
    /// <summary>The value <c>GET /bff/user</c> reports as <c>signInMode</c>.</summary>
    public string ModeName => Mode switch
    {
        SignInMode.Development => "development",
        SignInMode.OpenIdConnect => "openIdConnect",
        _ => "none",
    };
}
