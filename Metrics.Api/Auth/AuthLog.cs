namespace Metrics.Api.Auth;

/// <summary>Source-generated log messages for authentication; event ids 1200-1299. No token value is ever logged.</summary>
internal static partial class AuthLog
{
    [LoggerMessage(EventId = 1201, EventName = "StreamTicketIssued", Level = LogLevel.Debug,
        Message = "Issued a stream ticket for {Path}.")]
    public static partial void TicketIssued(ILogger logger, string path);

    [LoggerMessage(EventId = 1202, EventName = "StreamTicketRejected", Level = LogLevel.Information,
        Message = "Rejected a stream ticket: {Reason}")]
    public static partial void TicketRejected(ILogger logger, string reason);

    [LoggerMessage(EventId = 1203, EventName = "StreamTicketReplayed", Level = LogLevel.Warning,
        Message = "Rejected a stream ticket that was already used (a replay, or a client retrying a single-use ticket).")]
    public static partial void TicketReplayed(ILogger logger);

    [LoggerMessage(EventId = 1204, EventName = "AmbiguousStreamCredentials", Level = LogLevel.Information,
        Message = "Refused a stream request with {Problem} (400).")]
    public static partial void AmbiguousCredentials(ILogger logger, string problem);

    [LoggerMessage(EventId = 1205, EventName = "StreamLimitReached", Level = LogLevel.Information,
        Message = "Refused a stream: the user already has {Limit} open (the per-user limit).")]
    public static partial void StreamLimitReached(ILogger logger, int limit);

    [LoggerMessage(EventId = 1206, EventName = "TicketIssuanceRateLimited", Level = LogLevel.Information,
        Message = "Refused a stream ticket: issuance rate limit reached (retry after {RetryAfter}).")]
    public static partial void TicketIssuanceRateLimited(ILogger logger, TimeSpan? retryAfter);

    [LoggerMessage(EventId = 1208, EventName = "EphemeralStreamTicketKey", Level = LogLevel.Warning,
        Message = "StreamTickets:SigningKey is not set: stream tickets are signed with a random key made for this process "
            + "(Development only). Replicas will not accept each other's tickets; the AppHost sets a shared key.")]
    public static partial void EphemeralTicketKey(ILogger logger);

    [LoggerMessage(EventId = 1209, EventName = "StreamTicketUnverifiable", Level = LogLevel.Warning,
        Message = "Refused a stream ticket with 503: the replay cache is unreachable, so it cannot be proven unused.")]
    public static partial void TicketUnverifiable(ILogger logger);

    [LoggerMessage(EventId = 1207, EventName = "AccessTokenRejected", Level = LogLevel.Information,
        Message = "Rejected an access token: {Reason}")]
    public static partial void AccessTokenRejected(ILogger logger, string reason);
}
