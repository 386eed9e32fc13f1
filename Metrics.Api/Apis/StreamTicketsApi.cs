using Metrics.Api.Auth;
using Metrics.Api.Contracts;
using Metrics.Api.Streaming;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Metrics.Api.Apis;

/// <summary>
/// <c>POST /api/stream/tickets</c>: trades the caller's access token (Authorization header only) for a single-use,
/// short-lived stream ticket, for clients that cannot send headers (EventSource).
/// </summary>
public static class StreamTicketsApi
{
    public const string Path = "/api/stream/tickets";

    /// <summary>A ticket request body is one short path; anything larger is refused before it is read.</summary>
    public const long MaxRequestBodySize = 1024;

    public static RouteHandlerBuilder MapStreamTicketsApi(this IEndpointRouteBuilder routes) =>
        routes.MapPost(Path, CreateTicket)
            .WithName("CreateStreamTicket")
            .WithTags("Streams")
            .WithSummary("A single-use ticket (30 s) to open one stream with ?ticket=, for EventSource; bearer access token only.")
            .WithMetadata(new RequestSizeLimitAttribute(MaxRequestBodySize))
            .RequireTicketIssuancePolicies();

    /// <summary>
    /// The body (<c>{ "path": "/api/stream/metrics" }</c>) is optional; the path defaults to the metrics stream and
    /// must be a stream that accepts tickets. The answer is never cached.
    /// </summary>
    public static Results<Ok<StreamTicketResponse>, ProblemHttpResult, UnauthorizedHttpResult, ForbidHttpResult> CreateTicket(
        HttpContext context,
        StreamTicketRequest? request,
        StreamTicketIssuer issuer,
        TimeProvider timeProvider,
        ILogger<StreamTicketIssuer> logger)
    {
        context.Response.Headers.CacheControl = "no-store";
        context.Response.Headers.Pragma = "no-cache";

        var path = StreamTicketPaths.OrDefault(request?.Path);
        if (!StreamTicketPaths.All.Contains(path))
        {
            // The rejected value is not echoed.
            return TypedResults.Problem(
                statusCode: StatusCodes.Status400BadRequest,
                title: "Unknown stream",
                detail: $"Tickets are issued for these streams only: {string.Join(", ", StreamTicketPaths.All)}.");
        }

        // The session is the access token's: a ticket never outlives it.
        if (context.Features.Get<AuthenticatedSession>() is not { } session || session.SessionExpiresAt <= timeProvider.GetUtcNow())
        {
            return TypedResults.Unauthorized();
        }

        var subject = StreamUser.From(context.User);
        if (subject.Length == 0)
        {
            return TypedResults.Forbid();
        }

        if (issuer.Issue(subject, path, session.SessionExpiresAt) is not { } ticket)
        {
            return TypedResults.Unauthorized();
        }

        AuthLog.TicketIssued(logger, path);
        return TypedResults.Ok(new StreamTicketResponse(ticket.Value, ticket.ExpiresAt, session.SessionExpiresAt));
    }
}

/// <param name="Ticket">Pass as <c>?ticket=</c> on the stream path; single-use.</param>
/// <param name="ExpiresAt">Redeem it before this (ISO-8601).</param>
/// <param name="SessionExpiresAt">The stream it opens ends (with a <c>reauth</c> event) by this time (ISO-8601).</param>
public sealed record StreamTicketResponse(string Ticket, DateTimeOffset ExpiresAt, DateTimeOffset SessionExpiresAt);
