using System.Reflection;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Metadata;

namespace Metrics.Api.Apis;

/// <summary>
/// A <c>text/event-stream</c> response whose body a delegate writes as raw SSE frames to
/// <see cref="HttpResponse.BodyWriter"/>. Same headers as <c>TypedResults.ServerSentEvents</c>; what differs is
/// that each event's frame is formatted once at publish and every stream writes those bytes, a batch per flush,
/// instead of formatting every item again for every subscriber.
/// </summary>
public sealed class EventStreamResult(Func<HttpContext, Task> writeEvents)
    : IResult, IStatusCodeHttpResult, IContentTypeHttpResult, IEndpointMetadataProvider
{
    public const string EventStreamContentType = "text/event-stream";

    public int StatusCode => StatusCodes.Status200OK;

    int? IStatusCodeHttpResult.StatusCode => StatusCode;

    public string ContentType => EventStreamContentType;

    public Task ExecuteAsync(HttpContext httpContext)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        var response = httpContext.Response;
        response.StatusCode = StatusCode;
        response.ContentType = EventStreamContentType;
        response.Headers.CacheControl = "no-cache,no-store";
        response.Headers.Pragma = "no-cache";
        // Compression middleware would buffer events; identity keeps every frame on the wire when flushed.
        response.Headers.ContentEncoding = "identity";
        httpContext.Features.GetRequiredFeature<IHttpResponseBodyFeature>().DisableBuffering();
        return writeEvents(httpContext);
    }

    public static void PopulateMetadata(MethodInfo method, EndpointBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status200OK, typeof(string), [EventStreamContentType]));
    }
}
