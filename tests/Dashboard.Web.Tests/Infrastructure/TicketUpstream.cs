using System.Collections.Concurrent;
using System.Security.Claims;
using System.Text.Json;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Tests.Shared;

namespace Dashboard.Web.Tests.Infrastructure;

/// <summary>
/// A small real Kestrel server standing in for Metrics.Api's <c>POST /api/stream/tickets</c>: it
/// validates the bearer token it receives exactly as Metrics.Api is to (JwtBearer with the development
/// issuer's key, issuer, audience, <c>typ: at+jwt</c>, HS256 only, small clock skew) and records who
/// called. A real HTTP hop, not a mock.
/// </summary>
public sealed class TicketUpstream : IAsyncDisposable
{
    private readonly WebApplication _app;

    private TicketUpstream(WebApplication app, Uri address)
    {
        _app = app;
        Address = address;
    }

    public Uri Address { get; }

    /// <summary>Every authenticated ticket request: the validated token and the requested path.</summary>
    public ConcurrentQueue<ReceivedTicketRequest> Received { get; } = new();

    /// <summary>Requests that were refused (no token, bad token).</summary>
    public int Refused => _refused;

    private int _refused;

    /// <summary>When set, answers every authenticated request with this status instead of a ticket.</summary>
    public int? FailWith { get; set; }

    public static Task<TicketUpstream> StartAsync(DevelopmentIssuer issuer) => HostStartGate.StartAsync(() => BuildAndStartAsync(issuer));

    private static async Task<TicketUpstream> BuildAndStartAsync(DevelopmentIssuer issuer)
    {
        var builder = LoopbackApp.CreateBuilder();
        builder.Services
            .AddAuthentication(JwtBearerDefaults.AuthenticationScheme)
            .AddJwtBearer(options =>
            {
                options.MapInboundClaims = false;
                options.RequireHttpsMetadata = false;
                options.TokenValidationParameters = new TokenValidationParameters
                {
                    ValidIssuer = issuer.Issuer,
                    ValidAudience = issuer.Audience,
                    IssuerSigningKey = new SymmetricSecurityKey(issuer.KeyBytes),
                    ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
                    ValidTypes = ["at+jwt"],
                    ClockSkew = TimeSpan.FromSeconds(5),
                    NameClaimType = "name",
                };
            });
        builder.Services.AddAuthorization();

        var app = builder.Build();
        TicketUpstream? upstream = null;
        app.UseAuthentication();
        app.Use(async (context, next) =>
        {
            await next(context);
            if (context.Response.StatusCode == StatusCodes.Status401Unauthorized)
            {
                Interlocked.Increment(ref upstream!._refused);
            }
        });
        app.UseAuthorization();
        app.MapPost("/api/stream/tickets", async (HttpContext context) =>
        {
            var body = await context.Request.ReadFromJsonAsync<JsonElement>();
            upstream!.Received.Enqueue(new ReceivedTicketRequest(
                context.User,
                context.Request.Headers.Authorization.ToString(),
                body.TryGetProperty("path", out var path) ? path.GetString() : null));
            if (upstream.FailWith is { } status)
            {
                return Results.StatusCode(status);
            }

            var now = DateTimeOffset.UtcNow;
            return Results.Json(new
            {
                ticket = $"ticket-{Guid.NewGuid():N}",
                expiresAt = now.AddSeconds(30).ToString("O"),
                sessionExpiresAt = DateTimeOffset.FromUnixTimeSeconds(long.Parse(context.User.FindFirstValue("exp")!, System.Globalization.CultureInfo.InvariantCulture)).ToString("O"),
            });
        }).RequireAuthorization();

        await LoopbackApp.StartAsync(app);
        upstream = new TicketUpstream(app, LoopbackApp.Address(app));
        return upstream;
    }

    /// <summary>How Dashboard.Web finds it: service discovery's configuration for http://metrics-api.</summary>
    public IEnumerable<KeyValuePair<string, string?>> AsServiceDiscoverySettings() =>
        [new("services:metrics-api:http:0", Address.ToString().TrimEnd('/'))];

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

public sealed record ReceivedTicketRequest(ClaimsPrincipal User, string Authorization, string? Path)
{
    /// <summary>The raw JWT the BFF sent (to check its header).</summary>
    public JsonWebToken Token => new(Authorization["Bearer ".Length..]);
}
