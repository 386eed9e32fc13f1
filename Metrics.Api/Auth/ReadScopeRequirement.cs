using System.Security.Claims;
using Microsoft.AspNetCore.Authorization;

namespace Metrics.Api.Auth;

/// <summary>
/// The caller holds <see cref="MetricsAuth.ReadScope"/>: as a delegated scope (<c>scp</c> from Entra ID,
/// <c>scope</c> from OAuth servers, user-jwts, the development issuer and stream tickets; space-separated) or as an
/// app role (<c>roles</c> in Entra ID app-only tokens, <c>role</c> from user-jwts).
/// </summary>
public sealed class ReadScopeRequirement : AuthorizationHandler<ReadScopeRequirement>, IAuthorizationRequirement
{
    private static readonly string[] ScopeClaimTypes = ["scp", "scope", "http://schemas.microsoft.com/identity/claims/scope"];
    private static readonly string[] RoleClaimTypes = ["roles", "role", ClaimTypes.Role];

    public static bool IsSatisfiedBy(ClaimsPrincipal user)
    {
        ArgumentNullException.ThrowIfNull(user);
        foreach (var claim in user.Claims)
        {
            if (ScopeClaimTypes.Contains(claim.Type, StringComparer.Ordinal)
                && claim.Value.Split(' ', StringSplitOptions.RemoveEmptyEntries).Contains(MetricsAuth.ReadScope, StringComparer.Ordinal))
            {
                return true;
            }

            if (RoleClaimTypes.Contains(claim.Type, StringComparer.Ordinal) && claim.Value == MetricsAuth.ReadScope)
            {
                return true;
            }
        }

        return false;
    }

    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, ReadScopeRequirement requirement)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.User.Identity?.IsAuthenticated == true && IsSatisfiedBy(context.User))
        {
            context.Succeed(requirement);
        }

        return Task.CompletedTask;
    }
}
