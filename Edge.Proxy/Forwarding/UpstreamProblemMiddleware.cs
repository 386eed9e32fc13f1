using Microsoft.AspNetCore.Http.Timeouts;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace Edge.Proxy.Forwarding;

/// <summary>
/// YARP answers a failed upstream with a bare status (502, 503, 504) and an empty body. This writes a
/// problem+json body instead, so clients and people see what happened, and turns an expired request timeout
/// into 504. Nothing of the failure's detail (addresses, exception text) is exposed.
/// </summary>
public sealed class UpstreamProblemMiddleware(RequestDelegate next, ILogger<UpstreamProblemMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        await next(context);

        var failure = context.Features.Get<IForwarderErrorFeature>();
        if (failure is null || context.Response.HasStarted)
        {
            return;
        }

        // The request-timeouts middleware cancels RequestAborted, which YARP takes for a client that left (400).
        if (context.Features.Get<IHttpRequestTimeoutFeature>()?.RequestTimeoutToken.IsCancellationRequested == true)
        {
            context.Response.StatusCode = StatusCodes.Status504GatewayTimeout;
        }
        else if (context.RequestAborted.IsCancellationRequested || context.Response.StatusCode < StatusCodes.Status500InternalServerError)
        {
            return;
        }

        var status = context.Response.StatusCode;
        var detail = status switch
        {
            StatusCodes.Status503ServiceUnavailable => "No instance of the upstream service is available. Try again shortly.",
            StatusCodes.Status504GatewayTimeout => "The upstream service did not answer in time. Try again shortly.",
            _ => "The upstream service could not be reached or failed. Try again shortly.",
        };

        // Written whatever the client accepts: an EventSource asks for text/event-stream, which the problem
        // details service would decline, and an empty 502 tells the person debugging nothing.
        await TypedResults.Problem(detail: detail, statusCode: status).ExecuteAsync(context);

        if (logger.IsEnabled(LogLevel.Debug))
        {
            var routeId = context.GetReverseProxyFeature().Route.Config.RouteId;
            EdgeLog.UpstreamFailureAnswered(logger, status, routeId, failure.Error);
        }
    }
}
