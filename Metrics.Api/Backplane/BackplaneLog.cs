namespace Metrics.Api.Backplane;

/// <summary>Source-generated log messages for the Redis backplane (event log, tickets, leases); event ids 1400-1499. No ticket value is logged.</summary>
internal static partial class BackplaneLog
{
    [LoggerMessage(EventId = 1401, EventName = "RedisBackplaneUnavailable", Level = LogLevel.Warning,
        Message = "Redis is unreachable ({Operation}): streams stay open with this replica's own samples, stream tickets are "
            + "refused with 503 and per-user stream limits count this replica's streams only, until it is back. Logged once per outage.")]
    public static partial void Unavailable(ILogger logger, string operation, Exception? exception);

    [LoggerMessage(EventId = 1402, EventName = "RedisBackplaneRestored", Level = LogLevel.Information,
        Message = "Redis is reachable again: the event log, stream tickets and per-user stream limits are shared across replicas.")]
    public static partial void Restored(ILogger logger);

    [LoggerMessage(EventId = 1403, EventName = "StreamLeasesRenewed", Level = LogLevel.Trace,
        Message = "Renewed {LeaseCount} stream leases of {UserCount} users.")]
    public static partial void LeasesRenewed(ILogger logger, int leaseCount, int userCount);

    [LoggerMessage(EventId = 1404, EventName = "EventLogEntriesLost", Level = LogLevel.Warning,
        Message = "Entries after {Position} were trimmed from the event log while it was unreadable (up to {MaxDeleted}); streams were sent a gap.")]
    public static partial void EntriesLost(ILogger logger, long position, long maxDeleted);
}
