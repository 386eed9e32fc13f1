using System.Threading.RateLimiting;
using Metrics.Api.Streaming;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace Metrics.Api.Auth;

public static class TicketRateLimitingExtensions
{
    /// <summary>
    /// The rate limiter's policy for ticket issuance (<c>StreamTickets:RateLimit</c>): a token bucket per
    /// authenticated user; past it, 429 with <c>Retry-After</c>. Use the rate limiter after authentication.
    /// </summary>
    public static TBuilder AddTicketRateLimiting<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddRateLimiter(options =>
        {
            options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            options.OnRejected = static (context, _) =>
            {
                var retryAfter = context.HttpContext.Response.SetRetryAfter(context.Lease);

                var logger = context.HttpContext.RequestServices.GetRequiredService<ILogger<StreamTicketIssuer>>();
                AuthLog.TicketIssuanceRateLimited(logger, retryAfter);
                return ValueTask.CompletedTask;
            };
            options.AddPolicy(MetricsAuth.TicketIssuanceRateLimit, static context =>
            {
                var limit = context.RequestServices.GetRequiredService<IOptions<StreamTicketOptions>>().Value.RateLimit;
                return RateLimitPartition.GetTokenBucketLimiter(StreamUser.From(context.User), _ => new TokenBucketRateLimiterOptions
                {
                    TokenLimit = limit.TokenLimit,
                    TokensPerPeriod = limit.TokensPerPeriod,
                    ReplenishmentPeriod = limit.ReplenishmentPeriod,
                    QueueLimit = 0,
                    AutoReplenishment = true,
                });
            });
        });
        return builder;
    }
}
