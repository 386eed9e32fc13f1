using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.Net.Http.Headers;

namespace Metrics.Api.Auth;

/// <summary>
/// The stream-ticket scheme's rules around JwtBearer's validation (signature, <c>typ</c>, <c>iss</c>, <c>aud</c>,
/// lifetime with a small skew): where a ticket may come from, and what must hold after it validated.
/// </summary>
public sealed class StreamTicketEvents(
    IOptions<StreamTicketOptions> options,
    ITicketReplayCache replayCache,
    TimeProvider timeProvider,
    ILogger<StreamTicketEvents> logger) : JwtBearerEvents
{
    /// <summary>Set on a request whose ticket could not be checked (the replay cache was unreachable): its Retry-After.</summary>
    private static readonly object UnavailableKey = new();

    /// <summary>A GET below <c>/api/stream</c>: the only requests whose query may carry a ticket.</summary>
    public static bool IsStreamRequest(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return HttpMethods.IsGet(request.Method) && request.Path.StartsWithSegments(MetricsAuth.StreamPathPrefix, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>
    /// Takes the ticket from the <c>ticket</c> query parameter of a stream request, and from nowhere else: never the
    /// Authorization header (a ticket is not a bearer token), never another path or method. Oversized tickets are
    /// refused before anything parses them.
    /// </summary>
    public override Task MessageReceived(MessageReceivedContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var request = context.Request;
        var tickets = request.Query[MetricsAuth.TicketQueryParameter];
        if (!IsStreamRequest(request) || request.Headers.Authorization.Count > 0 || tickets.Count == 0 || string.IsNullOrEmpty(tickets[0]))
        {
            // NoResult stops JwtBearer from falling back to the Authorization header.
            context.NoResult();
            return Task.CompletedTask;
        }

        if (tickets.Count > 1)
        {
            Reject(context, "more than one ticket parameter.");
            return Task.CompletedTask;
        }

        var ticket = tickets[0]!;
        if (ticket.Length > options.Value.MaxLength)
        {
            Reject(context, "longer than StreamTickets:MaxLength.");
            return Task.CompletedTask;
        }

        context.Token = ticket;
        return Task.CompletedTask;
    }

    /// <summary>
    /// After JwtBearer validated the ticket: it is for this stream path, its session has not ended, and it was
    /// never redeemed before (checked last, so only an otherwise valid ticket is spent).
    /// </summary>
    public override async Task TokenValidated(TokenValidatedContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.SecurityToken is not JsonWebToken token)
        {
            Reject(context, "not a JSON web token.");
            return;
        }

        if (!token.TryGetPayloadValue<string>(StreamTicketIssuer.PathClaim, out var path) || !SamePath(path, context.Request.Path))
        {
            Reject(context, "issued for another stream.");
            return;
        }

        if (!token.TryGetPayloadValue<long>(StreamTicketIssuer.SessionExpiresClaim, out var sessionExp))
        {
            Reject(context, "no session expiry.");
            return;
        }

        var now = timeProvider.GetUtcNow();
        var sessionExpiresAt = DateTimeOffset.FromUnixTimeSeconds(sessionExp);
        if (sessionExpiresAt <= now)
        {
            Reject(context, "its session has ended.");
            return;
        }

        if (string.IsNullOrEmpty(token.Id) || string.IsNullOrEmpty(token.Subject))
        {
            Reject(context, "no ticket id or subject.");
            return;
        }

        var keepUntil = new DateTimeOffset(token.ValidTo, TimeSpan.Zero) + options.Value.ClockSkew;
        bool redeemed;
        try
        {
            redeemed = await replayCache.TryRedeemAsync(token.Id, keepUntil, context.HttpContext.RequestAborted);
        }
        catch (TicketReplayCacheUnavailableException unavailable)
        {
            // Fail closed: a ticket that cannot be proven unused is refused. The challenge answers 503, not 401: the
            // ticket is good and unspent, the outage is ours.
            AuthLog.TicketUnverifiable(logger);
            context.HttpContext.Items[UnavailableKey] = unavailable.RetryAfter;
            context.Fail("The stream ticket cannot be checked right now.");
            return;
        }

        if (!redeemed)
        {
            AuthLog.TicketReplayed(logger);
            context.Fail("The stream ticket was already used.");
            return;
        }

        AuthenticatedSession.Create(sessionExpiresAt, now).AttachTo(context.HttpContext);
        context.Principal = CredentialRelease.ClaimsOnly(context.Principal!);
    }

    public override Task AuthenticationFailed(AuthenticationFailedContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        // The exception's type says enough (expired, bad signature, wrong audience...); its text stays out.
        if (logger.IsEnabled(LogLevel.Information))
        {
            var kind = context.Exception.GetType().Name;
            AuthLog.TicketRejected(logger, kind);
        }

        return Task.CompletedTask;
    }

    /// <summary>
    /// No WWW-Authenticate from this scheme (no oracle on why a ticket failed); the access-token scheme, challenged
    /// alongside, answers 401 with a plain <c>Bearer</c> challenge. The one exception: a ticket the replay cache could
    /// not check is 503 (<see cref="WriteUnavailableAsync"/>).
    /// </summary>
    public override async Task Challenge(JwtBearerChallengeContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.HandleResponse();
        if (context.Response.HasStarted)
        {
            return;
        }

        if (context.HttpContext.Items[UnavailableKey] is TimeSpan retryAfter)
        {
            await WriteUnavailableAsync(context.HttpContext, retryAfter);
            return;
        }

        context.Response.StatusCode = StatusCodes.Status401Unauthorized;
    }

    /// <summary>
    /// 503 + Retry-After as a problem. This challenge runs after the access-token scheme's (the policy's order), so it
    /// replaces that 401 and its <c>WWW-Authenticate</c>: the credential was fine, the service was not.
    /// </summary>
    private static async Task WriteUnavailableAsync(HttpContext context, TimeSpan retryAfter)
    {
        var response = context.Response;
        response.Headers.Remove(HeaderNames.WWWAuthenticate);
        response.SetRetryAfter(retryAfter);
        // As the endpoint's own problems are: written whatever the request accepts (an EventSource asks for text/event-stream).
        await TypedResults.Problem(
            statusCode: StatusCodes.Status503ServiceUnavailable,
            title: "Stream tickets cannot be checked",
            detail: "The store that makes stream tickets single-use is unreachable, so no ticket is accepted. "
                + "The ticket was not spent: try it again after Retry-After, or mint a new one.").ExecuteAsync(context);
    }

    /// <summary>Routing ignores case and a trailing slash, so the comparison does too.</summary>
    private static bool SamePath(string? ticketPath, PathString requestPath) =>
        ticketPath is not null
        && string.Equals(ticketPath.TrimEnd('/'), requestPath.Value?.TrimEnd('/'), StringComparison.OrdinalIgnoreCase);

    private void Reject(MessageReceivedContext context, string reason)
    {
        AuthLog.TicketRejected(logger, reason);
        context.Fail("The stream ticket is invalid.");
    }

    private void Reject(TokenValidatedContext context, string reason)
    {
        AuthLog.TicketRejected(logger, reason);
        context.Fail("The stream ticket is invalid.");
    }
}
