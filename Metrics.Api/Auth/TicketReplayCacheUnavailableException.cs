namespace Metrics.Api.Auth;

/// <summary>
/// Thrown by a shared <see cref="ITicketReplayCache"/> that cannot be reached: the ticket cannot be proven unused, so
/// it is refused (fail closed) with 503 and <see cref="RetryAfter"/>, and it is not spent.
/// </summary>
public sealed class TicketReplayCacheUnavailableException : Exception
{
    public TicketReplayCacheUnavailableException()
        : this("The ticket replay cache is unreachable.")
    {
    }

    public TicketReplayCacheUnavailableException(string message)
        : base(message)
    {
    }

    public TicketReplayCacheUnavailableException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>When a client should try again.</summary>
    public TimeSpan RetryAfter { get; init; } = TimeSpan.FromSeconds(5);
}
