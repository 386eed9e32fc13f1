using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Dashboard.Web.Apis;
using Metrics.Api.Contracts;

namespace Dashboard.Web.MetricsApi;

/// <summary>
/// Calls Metrics.Api (<c>http://metrics-api</c>, resolved by service discovery) for stream tickets.
/// The access token goes in the Authorization header of this server-to-server call only.
/// </summary>
public sealed class MetricsApiClient(HttpClient http, ILogger<MetricsApiClient> logger)
{
    public const string TicketsPath = "/api/stream/tickets";

    public async Task<TicketResult> CreateTicketAsync(string accessToken, string streamPath, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, TicketsPath)
        {
            Content = JsonContent.Create(new StreamTicketRequest(streamPath), MetricsApiJsonContext.Default.StreamTicketRequest),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));

        try
        {
            using var response = await http.SendAsync(request, cancellationToken);
            switch (response.StatusCode)
            {
                case HttpStatusCode.OK:
                    var ticket = await response.Content.ReadFromJsonAsync(MetricsApiJsonContext.Default.StreamTicket, cancellationToken);
                    if (ticket is null || string.IsNullOrEmpty(ticket.Ticket) || string.IsNullOrEmpty(ticket.ExpiresAt))
                    {
                        return Fail("Metrics.Api answered 200 without a ticket.", null);
                    }

                    return new TicketResult(TicketOutcome.Issued, ticket, null, null);
                case HttpStatusCode.Unauthorized:
                    return new TicketResult(TicketOutcome.Unauthorized, null, null, null);
                case HttpStatusCode.Forbidden:
                    return new TicketResult(TicketOutcome.Forbidden, null, null, null);
                case HttpStatusCode.TooManyRequests:
                    return new TicketResult(TicketOutcome.RateLimited, null, null, response.Headers.RetryAfter?.ToString());
                default:
                    return Fail($"Metrics.Api answered {(int)response.StatusCode} to the ticket request.", null);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or JsonException or InvalidOperationException
                                       or Polly.ExecutionRejectedException)
        {
            // Down, unreachable, timed out, circuit open, not resolvable, or nonsense: all mean "no ticket now".
            return Fail("The metrics service did not answer.", ex);
        }

        TicketResult Fail(string reason, Exception? exception)
        {
            BffLog.TicketRequestFailed(logger, reason, exception);
            return new TicketResult(TicketOutcome.Unavailable, null, reason, null);
        }
    }
}

public enum TicketOutcome
{
    Issued,
    Unauthorized,
    Forbidden,
    RateLimited,
    Unavailable,
}

public sealed record TicketResult(TicketOutcome Outcome, StreamTicket? Ticket, string? Detail, string? RetryAfter);

/// <summary>Metrics.Api's answer, relayed to the page as is: ticket, expiresAt and sessionExpiresAt (ISO-8601).</summary>
public sealed record StreamTicket(string Ticket, string ExpiresAt, string? SessionExpiresAt);
