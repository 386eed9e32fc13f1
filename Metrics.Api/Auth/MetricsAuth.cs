using Microsoft.AspNetCore.Authentication.JwtBearer;

namespace Metrics.Api.Auth;

/// <summary>The names of the authentication schemes, policies and claims; endpoint code never repeats a string.</summary>
public static class MetricsAuth
{
    /// <summary>
    /// The default scheme: a policy scheme for access tokens in the <c>Authorization</c> header. It forwards to
    /// <see cref="DevelopmentIssuerScheme"/> when the token's (unvalidated) issuer is the AppHost's development
    /// issuer and that issuer is configured, else to <see cref="BearerScheme"/>.
    /// </summary>
    public const string AccessTokenScheme = "AccessToken";

    /// <summary>The real identity provider (Entra ID, any OIDC issuer, <c>dotnet user-jwts</c>), from <c>Authentication:Schemes:Bearer</c>.</summary>
    public const string BearerScheme = JwtBearerDefaults.AuthenticationScheme;

    /// <summary>The AppHost's development issuer (section <c>DevelopmentIssuer</c>), trusted only in Development.</summary>
    public const string DevelopmentIssuerScheme = "DevelopmentIssuer";

    /// <summary>Stream tickets: the <c>ticket</c> query parameter, only on <c>GET /api/stream/...</c>.</summary>
    public const string StreamTicketScheme = "StreamTicket";

    /// <summary>Streams: an access token (header) or a stream ticket (query), with <see cref="ReadScope"/>.</summary>
    public const string ReadPolicy = "metrics.read";

    /// <summary>Ticket issuance: an access token in the header only, with <see cref="ReadScope"/>.</summary>
    public const string TicketIssuancePolicy = "metrics.read.access-token";

    /// <summary>The rate-limiter policy on ticket issuance, partitioned by user.</summary>
    public const string TicketIssuanceRateLimit = "stream-ticket-issuance";

    /// <summary>The delegated scope (<c>scp</c>/<c>scope</c>) or app role (<c>roles</c>) that allows reading metrics.</summary>
    public const string ReadScope = "metrics.read";

    /// <summary>The query parameter that carries a stream ticket.</summary>
    public const string TicketQueryParameter = "ticket";

    /// <summary>Where stream paths live; tickets are read from the query only below it, and only on GET.</summary>
    public const string StreamPathPrefix = "/api/stream";
}
