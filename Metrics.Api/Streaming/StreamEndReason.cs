namespace Metrics.Api.Streaming;

/// <summary>Why a stream ended. The set is closed on purpose: it becomes a metric attribute.</summary>
public enum StreamEndReason
{
    /// <summary>The client went away (closed the tab, reset the HTTP/2 stream, dropped the connection).</summary>
    ClientDisconnect,

    /// <summary>The client read nothing for <c>StalledStreamTimeout</c> while events waited; the transport was cut.</summary>
    SlowConsumer,

    /// <summary>The stream reached its maximum age and was asked to reconnect.</summary>
    MaxAge,

    /// <summary>The process is stopping; the client was told to reconnect elsewhere.</summary>
    Shutdown,

    /// <summary>The caller's session expired or was revoked; the client was told to re-authenticate.</summary>
    TokenExpired,

    /// <summary>An operator asked this replica's clients to reconnect (e.g. to spread them over a new replica).</summary>
    Rebalance,
}

public static class StreamEndReasonExtensions
{
    /// <summary>The attribute value used in telemetry and logs (snake_case, stable).</summary>
    public static string ToTagValue(this StreamEndReason reason) => reason switch
    {
        StreamEndReason.ClientDisconnect => "client_disconnect",
        StreamEndReason.SlowConsumer => "slow_consumer",
        StreamEndReason.MaxAge => "max_age",
        StreamEndReason.Shutdown => "shutdown",
        StreamEndReason.TokenExpired => "token_expired",
        StreamEndReason.Rebalance => "rebalance",
        _ => throw new ArgumentOutOfRangeException(nameof(reason), reason, null),
    };
}
