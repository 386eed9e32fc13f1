namespace Dashboard.Web.Apis;

/// <summary>Log events of the BFF. Never logs tokens, tickets or user names.</summary>
internal static partial class BffLog
{
    [LoggerMessage(EventId = 1, EventName = "DevelopmentIssuerRefused", Level = LogLevel.Warning,
        Message = "DevelopmentIssuer is configured but the environment is {EnvironmentName}: the development sign-in stays off. Remove the DevelopmentIssuer settings from this deployment.")]
    public static partial void DevelopmentIssuerRefused(ILogger logger, string environmentName);

    [LoggerMessage(EventId = 2, EventName = "DevelopmentTokenRejected", Level = LogLevel.Error,
        Message = "Metrics.Api rejected a development access token (401): the DevelopmentIssuer settings of Dashboard.Web and Metrics.Api differ.")]
    public static partial void DevelopmentTokenRejected(ILogger logger);

    [LoggerMessage(EventId = 3, EventName = "TicketRequestFailed", Level = LogLevel.Warning,
        Message = "Metrics.Api could not issue a stream ticket: {Reason}")]
    public static partial void TicketRequestFailed(ILogger logger, string reason, Exception? exception);
}
