using Metrics.Api.Auth;
using Metrics.Api.Streaming;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

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

        var path = string.IsNullOrEmpty(request?.Path) ? MetricsStreamApi.MetricsPath : request.Path;
        if (!MetricsStreamApi.TicketPaths.Contains(path))
        {
            // The rejected value is not echoed.
            return TypedResults.Problem(
                statusCode: StatusCodes.Status400BadRequest,
                title: "Unknown stream",
                detail: $"Tickets are issued for these streams only: {string.Join(", ", MetricsStreamApi.TicketPaths)}.");
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

/// <param name="Path">The stream the ticket is for; default <c>/api/stream/metrics</c>.</param>
public sealed record StreamTicketRequest(string? Path)
{
    /// <summary>
    /// The optional JSON body. An empty body is no body whatever its framing: a proxy may forward a body-less POST as
    /// an HTTP/2 stream with an empty DATA frame and no Content-Type, which the default binding answers 415. A body
    /// that is there must be JSON (415 otherwise) of this shape (400 otherwise); its size limit still applies (413).
    /// </summary>
    public static async ValueTask<StreamTicketRequest?> BindAsync(HttpContext context)
    {
        var request = context.Request;
        if (request.ContentLength == 0 || context.Features.Get<IHttpRequestBodyDetectionFeature>() is { CanHaveBody: false })
        {
            return null;
        }

        var peek = await request.BodyReader.ReadAsync(context.RequestAborted);
        var empty = peek.IsCompleted && peek.Buffer.IsEmpty;
        request.BodyReader.AdvanceTo(peek.Buffer.Start);
        if (empty)
        {
            return null;
        }

        if (!request.HasJsonContentType())
        {
            throw new BadHttpRequestException("A ticket request body is JSON (application/json).", StatusCodes.Status415UnsupportedMediaType);
        }

        try
        {
            var options = context.RequestServices.GetRequiredService<IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions>>().Value.SerializerOptions;
            return await request.ReadFromJsonAsync<StreamTicketRequest>(options, context.RequestAborted);
        }
        catch (JsonException)
        {
            throw new BadHttpRequestException("The body is not a ticket request ({ \"path\": \"/api/stream/metrics\" }).", StatusCodes.Status400BadRequest);
        }
    }
}

/// <param name="Ticket">Pass as <c>?ticket=</c> on the stream path; single-use.</param>
/// <param name="ExpiresAt">Redeem it before this (ISO-8601).</param>
/// <param name="SessionExpiresAt">The stream it opens ends (with a <c>reauth</c> event) by this time (ISO-8601).</param>
public sealed record StreamTicketResponse(string Ticket, DateTimeOffset ExpiresAt, DateTimeOffset SessionExpiresAt);
