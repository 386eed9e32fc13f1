namespace Metrics.Api.Apis;

/// <summary>
/// Aborts one request's transport, but only while that request is still running: Kestrel reuses
/// HttpContext objects, so an abort that arrives after the response finished must not land on
/// whatever request the context serves next.
/// </summary>
internal sealed class RequestAbort(HttpContext context)
{
    private readonly Lock _lock = new();
    private bool _requestFinished;

    public void Abort()
    {
        lock (_lock)
        {
            if (!_requestFinished)
            {
                context.Abort();
            }
        }
    }

    /// <summary>Call before the response completes; later aborts do nothing.</summary>
    public void RequestFinished()
    {
        lock (_lock)
        {
            _requestFinished = true;
        }
    }
}
