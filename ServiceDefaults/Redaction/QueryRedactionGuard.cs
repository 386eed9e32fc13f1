using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace ServiceDefaults.Redaction;

/// <summary>
/// Refuses to start a service outside Development when URL-query redaction has been switched off, because stream
/// tickets travel in query strings and would then be written to traces and HttpClient logs; and anywhere when a
/// name is both always redacted and allowed. Checked at start-up
/// (<c>ValidateOnStart</c>), so the process stops before it serves a single request.
/// </summary>
public sealed class QueryRedactionGuard(IConfiguration configuration, IHostEnvironment environment) : IValidateOptions<QueryRedactionOptions>
{
    /// <summary>The switches that turn URL-query redaction off, and what each one turns off.</summary>
    public static readonly IReadOnlyList<(string Name, string Effect)> Switches =
    [
        ("OTEL_DOTNET_EXPERIMENTAL_ASPNETCORE_DISABLE_URL_QUERY_REDACTION", "url.query of incoming request spans"),
        ("OTEL_DOTNET_EXPERIMENTAL_HTTPCLIENT_DISABLE_URL_QUERY_REDACTION", "url.full of outgoing request spans"),
        ("DOTNET_SYSTEM_NET_HTTP_DISABLEURIREDACTION", "url.full of HttpClient activities and IHttpClientFactory logs"),
    ];

    /// <summary>The AppContext switch behind DOTNET_SYSTEM_NET_HTTP_DISABLEURIREDACTION.</summary>
    public const string RuntimeSwitch = "System.Net.Http.DisableUriRedaction";

    public ValidateOptionsResult Validate(string? name, QueryRedactionOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var contradictions = options.AllowedQueryParameters
            .Where(allowed => options.QueryParameters.Contains(allowed?.Trim(), StringComparer.OrdinalIgnoreCase))
            .ToList();
        if (contradictions.Count > 0)
        {
            return ValidateOptionsResult.Fail(
                $"Redaction:AllowedQueryParameters names {string.Join(", ", contradictions)}, which Redaction:QueryParameters redacts always. "
                + "A credential's value never appears in a log or a span; remove it from AllowedQueryParameters.");
        }

        if (environment.IsDevelopment())
        {
            // Aspire's AppHost sets the OTEL_* switches for local runs; the redaction in ServiceDefaults still
            // covers spans and logs there.
            return ValidateOptionsResult.Success;
        }

        var turnedOff = TurnedOffSwitches(configuration).ToList();
        return turnedOff.Count == 0
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail(
                $"URL-query redaction is turned off ({string.Join(", ", turnedOff)}) in the '{environment.EnvironmentName}' environment. "
                + "Stream tickets travel in query strings and would be written to traces and logs. "
                + "Remove the setting (it is allowed only in Development) and start the service again.");
    }

    /// <summary>The switches that are on, as <c>NAME=value</c>, from configuration, the environment and AppContext.</summary>
    public static IEnumerable<string> TurnedOffSwitches(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        foreach (var (name, _) in Switches)
        {
            var value = configuration[name] ?? Environment.GetEnvironmentVariable(name);
            if (IsOn(value))
            {
                yield return $"{name}={value}";
            }
        }

        if (AppContext.TryGetSwitch(RuntimeSwitch, out var disabled) && disabled)
        {
            yield return $"AppContext switch {RuntimeSwitch}=true";
        }
    }

    private static bool IsOn(string? value) =>
        value is not null && (value.Trim().Equals("true", StringComparison.OrdinalIgnoreCase) || value.Trim() == "1");
}
