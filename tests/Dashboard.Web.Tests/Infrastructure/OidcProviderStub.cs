using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Tests.Shared;

namespace Dashboard.Web.Tests.Infrastructure;

/// <summary>
/// Just enough of an OpenID Connect provider for a challenge: a discovery document and an empty key
/// set on a real Kestrel socket. (Completing a sign-in needs a real identity provider.)
/// </summary>
public sealed class OidcProviderStub : IAsyncDisposable
{
    private readonly WebApplication _app;

    private OidcProviderStub(WebApplication app, string authority)
    {
        _app = app;
        Authority = authority;
    }

    public string Authority { get; }

    public static Task<OidcProviderStub> StartAsync() => HostStartGate.StartAsync(BuildAndStartAsync);

    private static async Task<OidcProviderStub> BuildAndStartAsync()
    {
        var app = LoopbackApp.CreateBuilder().Build();
        string? authority = null;
        app.MapGet("/.well-known/openid-configuration", () => Results.Json(new Dictionary<string, object>
        {
            ["issuer"] = authority!,
            ["authorization_endpoint"] = $"{authority}/authorize",
            ["token_endpoint"] = $"{authority}/token",
            ["end_session_endpoint"] = $"{authority}/logout",
            ["jwks_uri"] = $"{authority}/jwks",
            ["response_types_supported"] = new[] { "code" },
            ["subject_types_supported"] = new[] { "public" },
            ["id_token_signing_alg_values_supported"] = new[] { "RS256" },
        }));
        app.MapGet("/jwks", () => Results.Json(new { keys = Array.Empty<object>() }));
        await LoopbackApp.StartAsync(app);
        authority = LoopbackApp.Address(app).ToString().TrimEnd('/');
        return new OidcProviderStub(app, authority);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
