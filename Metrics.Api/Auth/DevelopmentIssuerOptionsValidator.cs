using Metrics.Api.Contracts;
using Microsoft.Extensions.Options;

namespace Metrics.Api.Auth;

/// <summary>
/// The development issuer (<see cref="DevelopmentIssuerOptions"/>), checked at start-up: honoured only when configured
/// and only in the Development environment; anywhere else a configured development issuer stops the service.
/// </summary>
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

        var problems = options.Problems();
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}
