using Microsoft.Extensions.Options;

namespace Dashboard.Web.Auth;

/// <summary>
/// The AppHost's development token issuer (section <c>DevelopmentIssuer</c>, from the AppHost's secret
/// parameters): an HMAC-SHA256 key shared with Metrics.Api, the issuer and the audience. Honoured only
/// in the Development environment.
/// </summary>
public sealed class DevelopmentIssuerOptions
{
    public const string SectionName = "DevelopmentIssuer";

    /// <summary>Base64 of at least 32 random bytes.</summary>
    public string? SigningKey { get; set; }

    /// <summary>The <c>iss</c> claim, an absolute URI (e.g. https://dev-issuer.localhost).</summary>
    public string? Issuer { get; set; }

    /// <summary>The <c>aud</c> claim (e.g. metrics-api).</summary>
    public string? Audience { get; set; }

    /// <summary>Lifetime of a minted access token.</summary>
    public TimeSpan AccessTokenLifetime { get; set; } = TimeSpan.FromMinutes(15);

    public bool IsConfigured => !string.IsNullOrWhiteSpace(SigningKey);

    /// <summary>The decoded key; call only after validation.</summary>
    public byte[] GetKeyBytes() => Convert.FromBase64String(SigningKey!);
}

/// <summary>Checked at start-up when the development sign-in is in force.</summary>
public sealed class DevelopmentIssuerOptionsValidator(BffSignIn signIn) : IValidateOptions<DevelopmentIssuerOptions>
{
    public const int MinimumKeyBytes = 32;

    public ValidateOptionsResult Validate(string? name, DevelopmentIssuerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (signIn.Mode != SignInMode.Development)
        {
            return ValidateOptionsResult.Skip;
        }

        var failures = new List<string>();
        byte[]? key = null;
        try
        {
            key = Convert.FromBase64String(options.SigningKey ?? "");
        }
        catch (FormatException)
        {
            failures.Add("DevelopmentIssuer:SigningKey must be base64.");
        }

        if (key is not null && key.Length < MinimumKeyBytes)
        {
            failures.Add($"DevelopmentIssuer:SigningKey must decode to at least {MinimumKeyBytes} bytes (HMAC-SHA256).");
        }

        if (!Uri.TryCreate(options.Issuer, UriKind.Absolute, out _))
        {
            failures.Add("DevelopmentIssuer:Issuer must be an absolute URI.");
        }

        if (string.IsNullOrWhiteSpace(options.Audience))
        {
            failures.Add("DevelopmentIssuer:Audience is required.");
        }

        if (options.AccessTokenLifetime < TimeSpan.FromMinutes(1) || options.AccessTokenLifetime > TimeSpan.FromHours(1))
        {
            failures.Add("DevelopmentIssuer:AccessTokenLifetime must be between 1 minute and 1 hour.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
