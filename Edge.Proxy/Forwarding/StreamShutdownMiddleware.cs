namespace Edge.Proxy.Forwarding;

/// <summary>
/// Resets open streams as soon as the edge starts shutting down. A stream never finishes on its own, so without
/// this the host would wait its whole ShutdownTimeout (30 s, as long as Container Apps' grace period) and then be
/// killed. The reset makes the browser's EventSource reconnect at once, to a replica that is still running.
/// </summary>
public sealed class StreamShutdownMiddleware(RequestDelegate next, IHostApplicationLifetime lifetime)
{
    public async Task InvokeAsync(HttpContext context)
    {
        if (!StreamRoutes.IsStreamRequest(context))
        {
            await next(context);
            return;
        }

        using var registration = lifetime.ApplicationStopping.Register(static state => ((HttpContext)state!).Abort(), context);
        await next(context);
    }
}
