namespace Metrics.Api.Backplane;

/// <summary>
/// Whether Redis is currently known to be unreachable, so an outage is logged once when it starts and once when it
/// ends, not per request or per renewal, and the event log can tell every stream.
/// </summary>
public sealed class RedisOutage(ILogger<RedisOutage> logger)
{
    private int _down;

    public bool IsDown => Volatile.Read(ref _down) == 1;

    /// <summary>Raised once when an outage starts (true) and once when it ends (false).</summary>
    public event Action<bool>? Changed;

    public void Failed(string operation, Exception? exception = null)
    {
        if (Interlocked.Exchange(ref _down, 1) == 0)
        {
            BackplaneLog.Unavailable(logger, operation, exception);
            Changed?.Invoke(true);
        }
    }

    public void Succeeded()
    {
        if (Volatile.Read(ref _down) == 1 && Interlocked.Exchange(ref _down, 0) == 1)
        {
            BackplaneLog.Restored(logger);
            Changed?.Invoke(false);
        }
    }
}
