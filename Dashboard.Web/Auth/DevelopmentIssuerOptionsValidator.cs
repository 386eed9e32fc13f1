using Metrics.Api.Contracts;
using Microsoft.Extensions.Options;

namespace Dashboard.Web.Auth;

/// <summary>The development issuer (<see cref="DevelopmentIssuerOptions"/>), checked at start-up when the development sign-in is in force.</summary>
public sealed class DevelopmentIssuerOptionsValidator(BffSignIn signIn) : IValidateOptions<DevelopmentIssuerOptions>
{
    public ValidateOptionsResult Validate(string? name, DevelopmentIssuerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (signIn.Mode != SignInMode.Development)
        {
            return ValidateOptionsResult.Skip;
        }

        var problems = options.Problems();
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}
