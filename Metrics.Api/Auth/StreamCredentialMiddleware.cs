namespace Metrics.Api.Auth;

/// <summary>
/// One credential per stream request (RFC 6750 §3.1, <c>invalid_request</c>): an <c>Authorization</c> header and
/// a <c>ticket</c> query parameter together, or the parameter twice, is a 400 before anything is authenticated,
/// so the ticket is not spent and neither identity is used.
/// </summary>
public sealed class StreamCredentialMiddleware(RequestDelegate next, ILogger<StreamCredentialMiddleware> logger)
{
    public Task InvokeAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (StreamTicketEvents.IsStreamRequest(context.Request) && context.Request.Query.ContainsKey(MetricsAuth.TicketQueryParameter))
        {
            var tickets = context.Request.Query[MetricsAuth.TicketQueryParameter];
            var problem = tickets.Count > 1
                ? "the ticket parameter twice"
                : context.Request.Headers.Authorization.Count > 0 ? "both an Authorization header and a ticket" : null;
            if (problem is not null)
            {
                AuthLog.AmbiguousCredentials(logger, problem);
                return TypedResults.Problem(
                    statusCode: StatusCodes.Status400BadRequest,
                    title: "Ambiguous credentials",
                    detail: "Send an access token in the Authorization header or one stream ticket in the ticket query parameter, not both.")
                    .ExecuteAsync(context);
            }
        }

        return next(context);
    }
}
