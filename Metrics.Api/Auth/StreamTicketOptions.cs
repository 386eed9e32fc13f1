using System.ComponentModel.DataAnnotations;
using Metrics.Api.Contracts;
using Microsoft.Extensions.Options;

namespace Metrics.Api.Auth;

/// <summary>
/// Stream tickets (section <c>StreamTickets</c>): the short-lived, single-use query token an EventSource opens a
/// stream with. A JWT of its own kind: own key, <c>typ</c>, issuer and audience, so no other token passes as one.
/// </summary>
public sealed class StreamTicketOptions
{
    public const string SectionName = "StreamTickets";
    public const string TokenType = "metrics-stream+jwt";
    public const int MinimumKeyBytes = 32;

    /// <summary>
    /// Base64 of at least 32 random bytes (HMAC-SHA256), the same on every replica; required. The AppHost's secret
    /// parameter <c>stream-ticket-signing-key</c> locally, a Container Apps secret in Azure.
    /// </summary>
    [Required]
    public string? SigningKey { get; set; }

    /// <summary>The <c>iss</c> of tickets; must differ from every access-token issuer.</summary>
    [Required]
    public string Issuer { get; set; } = "metrics-api/stream-tickets";

    /// <summary>The <c>aud</c> of tickets; must differ from every access-token audience.</summary>
    [Required]
    public string Audience { get; set; } = "metrics-api/stream";

    /// <summary>How long a ticket may be redeemed (never beyond the session it came from).</summary>
    [Range(typeof(TimeSpan), "00:00:05", "00:05:00")]
    public TimeSpan Lifetime { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Leeway on the ticket's <c>exp</c>/<c>nbf</c> between replicas' clocks.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:00:30")]
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Longest ticket read from a URL, in characters; longer ones are refused before parsing.</summary>
    [Range(256, 8192)]
    public int MaxLength { get; set; } = 4096;

    /// <summary>Ticket issuance per user: a token bucket (429 with Retry-After when empty).</summary>
    [ValidateObjectMembers]
    public TicketRateLimitOptions RateLimit { get; set; } = new();

    /// <summary>
    /// True when no key was configured in Development and a random one was made for this process (a lone
    /// <c>dotnet run --project Metrics.Api</c>); outside Development a missing key stops the start.
    /// </summary>
    public bool KeyIsEphemeral { get; internal set; }

    /// <summary>The decoded key, or null when it is missing or not base64.</summary>
    public byte[]? TryGetKeyBytes() => SigningKeys.TryDecode(SigningKey);
}

public sealed class TicketRateLimitOptions
{
    /// <summary>Tickets a user may get at once (the bucket's size).</summary>
    [Range(1, 10_000)]
    public int TokenLimit { get; set; } = 30;

    /// <summary>Tickets added back every <see cref="ReplenishmentPeriod"/>.</summary>
    [Range(1, 10_000)]
    public int TokensPerPeriod { get; set; } = 1;

    [Range(typeof(TimeSpan), "00:00:00.100", "01:00:00")]
    public TimeSpan ReplenishmentPeriod { get; set; } = TimeSpan.FromSeconds(2);
}

[OptionsValidator]
public sealed partial class StreamTicketOptionsValidator : IValidateOptions<StreamTicketOptions>;

/// <summary>What the attributes cannot say: the key's strength and that tickets are distinct from access tokens.</summary>
public sealed class StreamTicketKindValidator(IConfiguration configuration) : IValidateOptions<StreamTicketOptions>
{
    public ValidateOptionsResult Validate(string? name, StreamTicketOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (options.TryGetKeyBytes() is not { Length: >= StreamTicketOptions.MinimumKeyBytes })
        {
            failures.Add($"StreamTickets:SigningKey must be base64 of at least {StreamTicketOptions.MinimumKeyBytes} random bytes, the same on every replica "
                + "(e.g. `openssl rand -base64 48`; the AppHost generates one per run).");
        }

        if (SigningKeys.TryDecode(configuration[$"{DevelopmentIssuerOptions.SectionName}:SigningKey"]) is { } developmentKey
            && options.TryGetKeyBytes() is { } ticketKey
            && developmentKey.AsSpan().SequenceEqual(ticketKey))
        {
            failures.Add("StreamTickets:SigningKey must not be the development issuer's key: every kind of token has its own key.");
        }

        var accessIssuers = Values("Authentication:Schemes:Bearer", "ValidIssuer", "ValidIssuers")
            .Append(configuration[$"{DevelopmentIssuerOptions.SectionName}:Issuer"]);
        if (accessIssuers.Contains(options.Issuer, StringComparer.Ordinal))
        {
            failures.Add("StreamTickets:Issuer must differ from every access-token issuer.");
        }

        var accessAudiences = Values("Authentication:Schemes:Bearer", "ValidAudience", "ValidAudiences")
            .Append(configuration[$"{DevelopmentIssuerOptions.SectionName}:Audience"]);
        if (accessAudiences.Contains(options.Audience, StringComparer.Ordinal))
        {
            failures.Add("StreamTickets:Audience must differ from every access-token audience.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private IEnumerable<string?> Values(string section, string single, string many) =>
        configuration.GetSection($"{section}:{many}").GetChildren().Select(c => c.Value).Append(configuration[$"{section}:{single}"]);
}
