namespace Metrics.Api.Contracts;

// Metrics.Api's stream-ticket contract, compiled into Metrics.Api and into Dashboard.Web as a linked source file (no
// shared assembly: the two only talk HTTP). With the same file the BFF sends the body the API reads, and refuses a
// stream the API would refuse without a round trip.

/// <summary>The optional body of <c>POST /api/stream/tickets</c> (and of the BFF's <c>POST /bff/stream-ticket</c>).</summary>
/// <param name="Path">The stream the ticket is for; default <see cref="StreamTicketPaths.Metrics"/>.</param>
public sealed partial record StreamTicketRequest(string? Path);

/// <summary>The streams Metrics.Api issues tickets for.</summary>
public static class StreamTicketPaths
{
    public const string Metrics = "/api/stream/metrics";

    public static readonly IReadOnlySet<string> All = new HashSet<string>(StringComparer.Ordinal) { Metrics };

    /// <summary>The requested stream, or the metrics stream when none was named.</summary>
    public static string OrDefault(string? path) => string.IsNullOrEmpty(path) ? Metrics : path;
}
