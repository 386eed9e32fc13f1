using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;

// The contract's namespace: this is the other half of the record in Metrics.Api/Contracts/StreamTickets.cs, which Dashboard.Web
// shares; only the API binds the body this way.
namespace Metrics.Api.Contracts;

public sealed partial record StreamTicketRequest
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
