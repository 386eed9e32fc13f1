using Microsoft.Extensions.Options;

namespace Metrics.Api.Auth;

/// <summary>
/// The AppHost's development token issuer (section <c>DevelopmentIssuer</c>, from the AppHost's secret parameter
/// <c>development-issuer-signing-key</c>): Dashboard.Web mints access tokens with this key and Metrics.Api trusts
/// them. Honoured only when configured, and only in the Development environment: anywhere else a configured
/// development issuer stops the service at start-up.
/// </summary>
public sealed class DevelopmentIssuerOptions
{
    public const string SectionName = "DevelopmentIssuer";
    public const string TokenType = "at+jwt";
    public const int MinimumKeyBytes = 32;

    /// <summary>Base64 of at least 32 random bytes (HMAC-SHA256).</summary>
    public string? SigningKey { get; set; }

    /// <summary>The <c>iss</c> of development tokens, an absolute URI (e.g. https://dev-issuer.localhost).</summary>
    public string? Issuer { get; set; }

    /// <summary>The <c>aud</c> of development tokens (e.g. metrics-api).</summary>
    public string? Audience { get; set; }

    public bool IsConfigured => !string.IsNullOrWhiteSpace(SigningKey);

    /// <summary>The decoded key, or null when it is missing or not base64.</summary>
    public byte[]? TryGetKeyBytes() => SigningKeys.TryDecode(SigningKey);
}

/// <summary>Checked at start-up.</summary>
public sealed class DevelopmentIssuerOptionsValidator(IHostEnvironment environment) : IValidateOptions<DevelopmentIssuerOptions>
{
    public ValidateOptionsResult Validate(string? name, DevelopmentIssuerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!options.IsConfigured)
        {
            return ValidateOptionsResult.Skip;
        }

        if (!environment.IsDevelopment())
        {
            return ValidateOptionsResult.Fail(
                $"DevelopmentIssuer is configured in the '{environment.EnvironmentName}' environment. The development issuer is for "
                + "local runs only (the AppHost sets it); outside Development Metrics.Api trusts only Authentication:Schemes:Bearer. "
                + "Remove the DevelopmentIssuer settings.");
        }

        var failures = new List<string>();
        if (options.TryGetKeyBytes() is not { Length: >= DevelopmentIssuerOptions.MinimumKeyBytes })
        {
            failures.Add($"DevelopmentIssuer:SigningKey must be base64 of at least {DevelopmentIssuerOptions.MinimumKeyBytes} bytes.");
        }

        if (!Uri.TryCreate(options.Issuer, UriKind.Absolute, out _))
        {
            failures.Add("DevelopmentIssuer:Issuer must be an absolute URI.");
        }

        if (string.IsNullOrWhiteSpace(options.Audience))
        {
            failures.Add("DevelopmentIssuer:Audience is required.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

internal static class SigningKeys
{
    public static byte[]? TryDecode(string? base64)
    {
        if (string.IsNullOrWhiteSpace(base64))
        {
            return null;
        }

        var buffer = new byte[base64.Length];
        return Convert.TryFromBase64String(base64.Trim(), buffer, out var written) ? buffer[..written] : null;
    }
}
