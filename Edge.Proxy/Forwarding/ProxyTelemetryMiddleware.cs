using System.Diagnostics;
using Edge.Proxy.Telemetry;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace Edge.Proxy.Forwarding;

/// <summary>
/// Counts what YARP's proxy pipeline forwards (requests started, in flight, failed) and how proxied streams end
/// (stream routes, and any response of type text/event-stream), by YARP's <see cref="IForwarderErrorFeature"/>.
/// Runs first in the proxy pipeline, around the forwarder.
/// </summary>
public sealed class ProxyTelemetryMiddleware(
    RequestDelegate next, EdgeProxyMetrics metrics, IHostApplicationLifetime lifetime, ILogger<ProxyTelemetryMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var route = context.GetReverseProxyFeature().Route.Config;
        var started = Stopwatch.GetTimestamp();
        metrics.RequestStarted(route.RouteId);
        try
        {
            await next(context);
        }
        catch
        {
            metrics.RequestEnded(route.RouteId, error: null);
            throw;
        }

        var failure = context.Features.Get<IForwarderErrorFeature>();
        var error = failure?.Error ?? ForwarderError.None;
        metrics.RequestEnded(route.RouteId, error);
        if (!StreamRoutes.IsStreamRoute(route) && !StreamRoutes.IsEventStream(context.Response.ContentType))
        {
            return;
        }

        var reason = lifetime.ApplicationStopping.IsCancellationRequested && error != ForwarderError.None
            ? ProxiedStreamOutcome.Shutdown
            : Classify(error, failure?.Exception);
        var duration = Stopwatch.GetElapsedTime(started);

        metrics.StreamEnded(route.RouteId, reason, error, duration);
        EdgeLog.StreamEnded(logger, route.RouteId, duration.TotalSeconds, reason, error);
    }

    /// <summary>
    /// YARP reports an expired ActivityTimeout as a destination error (the read from the upstream was cancelled);
    /// the cancellation exception is what tells it apart from an upstream that really failed (an IOException).
    /// </summary>
    public static ProxiedStreamOutcome Classify(ForwarderError error, Exception? exception) => error switch
    {
        ForwarderError.None => ProxiedStreamOutcome.Completed,
        ForwarderError.RequestCanceled or ForwarderError.RequestBodyCanceled or ForwarderError.ResponseBodyCanceled
            => ProxiedStreamOutcome.ClientAborted,
        ForwarderError.RequestTimedOut => ProxiedStreamOutcome.ActivityTimeout,
        ForwarderError.ResponseBodyDestination or ForwarderError.ResponseBodyClient when exception is OperationCanceledException
            => ProxiedStreamOutcome.ActivityTimeout,
        ForwarderError.ResponseBodyClient => ProxiedStreamOutcome.ClientAborted,
        ForwarderError.Request or ForwarderError.ResponseHeaders or ForwarderError.ResponseBodyDestination
            or ForwarderError.NoAvailableDestinations => ProxiedStreamOutcome.DestinationError,
        _ => ProxiedStreamOutcome.Other,
    };
}
