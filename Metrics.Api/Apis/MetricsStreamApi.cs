using Metrics.Api.Auth;
using Metrics.Api.Contracts;
using Metrics.Api.Streaming;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace Metrics.Api.Apis;

/// <summary>The live metrics stream (server-sent events).</summary>
public static class MetricsStreamApi
{
    public const string LastEventIdHeader = "Last-Event-ID";
    public const string MetricsPath = StreamTicketPaths.Metrics;

    public static RouteGroupBuilder MapMetricsStreamApi(this IEndpointRouteBuilder routes)
    {
        // Every stream needs metrics.read: an access token in the header or a stream ticket in the query.
        var group = routes.MapGroup(MetricsAuth.StreamPathPrefix).WithTags("Streams").RequireStreamReadPolicy();
        group.MapGet(MetricsPath[MetricsAuth.StreamPathPrefix.Length..], GetMetricsStream)
            .WithName("GetMetricsStream")
            .WithSummary("Live metrics of this replica as server-sent events, resumable with Last-Event-ID.")
            // Streams are long-lived by design; a request-timeout policy must never cut them.
            .DisableRequestTimeout();
        return group;
    }

    /// <summary>
    /// Validates the resume point and takes one of the user's stream slots (429 when none is left; nothing is
    /// allocated then), then streams: <c>ready</c> at once, a <c>gap</c> if events were lost, the missed events,
    /// live events and pings, and a farewell when the server ends it (<c>reauth</c> when the session does).
    /// </summary>
    public static async Task<Results<EventStreamResult, ProblemHttpResult>> GetMetricsStream(
        HttpContext context,
        [FromHeader(Name = LastEventIdHeader)] string? lastEventIdHeader,
        [FromQuery] string? lastEventId,
        [AsParameters] StreamServices services)
    {
        // Authorization has run: from here on the request keeps the claims, not the token or ticket text.
        CredentialRelease.RemoveFrom(context.Request);

        // The header is what EventSource sends on its own reconnects, so it is newer than a query
        // value the page put in the URL when it created the EventSource.
        var (resumeText, source) = string.IsNullOrEmpty(lastEventIdHeader) ? (lastEventId, "query") : (lastEventIdHeader, "header");
        if (!LastEventId.TryParse(resumeText, out var resumeAfter))
        {
            StreamLog.InvalidLastEventId(services.Logger, source);
            return TypedResults.Problem(
                statusCode: StatusCodes.Status400BadRequest,
                title: "Invalid Last-Event-ID",
                detail: $"The last event id must be the decimal id of an event from this stream (at most {LastEventId.MaxLength} digits).");
        }

        var userId = StreamUser.From(context.User);
        if (await services.Limiter.TryAcquireAsync(userId, context.RequestAborted) is not { } lease)
        {
            var limit = services.Limiter.MaxStreamsPerUser;
            AuthLog.StreamLimitReached(services.Logger, limit);
            context.Response.SetRetryAfter(services.Limiter.RetryAfter);
            return TypedResults.Problem(
                statusCode: StatusCodes.Status429TooManyRequests,
                title: "Too many open streams",
                detail: $"At most {limit} streams may be open at once per user. Close one, then try again.");
        }

        // Released when the stream ends (below); disposing the response covers a stream that never started.
        context.Response.RegisterForDispose(lease);
        return new EventStreamResult(_ => StreamAsync(context, resumeAfter, lease, services));
    }

    // Subscribing happens inside the response: the subscription exists only while the response
    // runs, and the finally below always removes it.
    private static async Task StreamAsync(HttpContext context, long? resumeAfter, IDisposable lease, StreamServices services)
    {
        var abort = new RequestAbort(context);
        try
        {
            var request = new SubscriptionRequest(StreamUser.From(context.User), resumeAfter) { AbortTransport = abort.Abort };
            using var subscription = await services.Hub.SubscribeAsync(request, context.RequestAborted);
            // Every way a stream ends goes through TryEnd, which wakes the writer: it then writes the farewell
            // (if there is anyone to tell) and returns. Nothing waits on a token, so nothing throws on disconnect.
            using var disconnected = context.RequestAborted.UnsafeRegister(
                static s => ((StreamSubscription)s!).TryEnd(StreamEndReason.ClientDisconnect), subscription);
            using var revoked = BoundBySession(subscription, context, services);
            await new EventStreamWriter(context, subscription).WriteAsync(services.ControlEvents);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away; the subscription has already counted it.
        }
        finally
        {
            // From here on the context may be reused, so a late slow-consumer abort must not touch it.
            abort.RequestFinished();
            lease.Dispose();
        }
    }

    /// <summary>Schedules the stream's end: max age (jittered) or session expiry, whichever is first.</summary>
    private static CancellationTokenRegistration BoundBySession(StreamSubscription subscription, HttpContext context, StreamServices services)
    {
        var options = services.Options.Value;
        var session = context.Features.Get<IStreamSessionFeature>();

        (TimeSpan DueIn, StreamEndReason Reason)? deadline = null;
        if (options.MaxStreamAge > TimeSpan.Zero)
        {
            // ±10 % so streams opened together (after a deploy) do not all reconnect together.
            deadline = (Jitter.Around(options.MaxStreamAge, 0.1), StreamEndReason.MaxAge);
        }

        if (session?.ExpiresAt is { } expiresAt)
        {
            var dueIn = expiresAt - services.TimeProvider.GetUtcNow();
            if (deadline is not { } current || dueIn <= current.DueIn)
            {
                deadline = (dueIn, StreamEndReason.TokenExpired);
            }
        }

        if (deadline is { } end)
        {
            subscription.EndAfter(end.DueIn, end.Reason);
        }

        return session is { Revoked.CanBeCanceled: true }
            ? session.Revoked.UnsafeRegister(static s => ((StreamSubscription)s!).TryEnd(StreamEndReason.TokenExpired), subscription)
            : default;
    }
}

/// <summary>What the stream endpoint needs, bound in one go.</summary>
public sealed record StreamServices(
    IEventHub Hub,
    ControlEvents ControlEvents,
    IOptions<StreamingOptions> Options,
    IUserStreamLimiter Limiter,
    TimeProvider TimeProvider,
    ILogger<StreamServices> Logger);
