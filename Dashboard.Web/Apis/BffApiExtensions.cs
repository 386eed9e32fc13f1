using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.HttpOverrides;

namespace Dashboard.Web.Apis;

public static class BffApiExtensions
{
    /// <summary>Stream tickets per user per minute: ten tabs reconnecting with backoff stay well inside it.</summary>
    public const int StreamTicketsPerMinute = 60;

    /// <summary>
    /// What the /bff endpoints need besides authentication: antiforgery, a per-user rate limit on
    /// stream tickets, and trusting the edge's X-Forwarded-* headers (loopback by default; on Azure
    /// Container Apps set ASPNETCORE_FORWARDEDHEADERS_ENABLED) so requests are seen as HTTPS.
    /// </summary>
    public static TBuilder AddBffApi<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        var services = builder.Services;
        services.AddBffAntiforgery();
        services.Configure<ForwardedHeadersOptions>(options =>
            options.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto | ForwardedHeaders.XForwardedHost);

        services.AddRateLimiter(options =>
        {
            options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            options.OnRejected = static async (context, _) =>
            {
                if (context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter))
                {
                    context.HttpContext.Response.Headers.RetryAfter = ((int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
                }

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
