using System.Threading.RateLimiting;
using Microsoft.AspNetCore.HttpOverrides;

namespace Dashboard.Web.Apis;

public static class BffApiExtensions
{
    /// <summary>Stream tickets per user per minute: ten tabs reconnecting with backoff stay well inside it.</summary>
    public const int StreamTicketsPerMinute = 60;

    /// <summary>What the /bff endpoints need besides authentication: antiforgery.</summary>
    public static TBuilder AddBffApi<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddBffAntiforgery();
        return builder;
    }

    /// <summary>
    /// Trusts the edge's X-Forwarded-For/Proto/Host (from loopback by default; on Azure Container Apps set
    /// ASPNETCORE_FORWARDEDHEADERS_ENABLED), so requests are seen as HTTPS. Use the forwarded-headers middleware first.
    /// </summary>
    public static TBuilder AddEdgeForwardedHeaders<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.Configure<ForwardedHeadersOptions>(options =>
            options.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto | ForwardedHeaders.XForwardedHost);
        return builder;
    }

    /// <summary>
    /// The rate limiter's per-user policy for stream tickets (<see cref="StreamTicketsPerMinute"/>); past it, a
    /// problem answer with <c>Retry-After</c>. Use the rate limiter after authentication.
    /// </summary>
    public static TBuilder AddStreamTicketRateLimiting<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddRateLimiter(options =>
        {
            options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            options.OnRejected = static async (context, _) =>
            {
                context.HttpContext.Response.SetRetryAfter(context.Lease);
                await BffProblems.WriteAsync(context.HttpContext, BffProblems.RateLimited());
            };
            options.AddPolicy(BffApi.StreamTicketsRateLimitPolicy, static context =>
                RateLimitPartition.GetTokenBucketLimiter(
                    context.User.Identity?.Name ?? context.Connection.RemoteIpAddress?.ToString() ?? "",
                    static _ => new TokenBucketRateLimiterOptions
                    {
                        TokenLimit = StreamTicketsPerMinute,
                        TokensPerPeriod = StreamTicketsPerMinute,
                        ReplenishmentPeriod = TimeSpan.FromMinutes(1),
                        QueueLimit = 0,
                        AutoReplenishment = true,
                    }));
        });
        return builder;
    }
}
