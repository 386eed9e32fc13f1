using System.Security.Claims;

namespace Metrics.Api.Streaming;

/// <summary>Who is streaming, for the distinct-users count. Never logged or used as a metric attribute.</summary>
public static class StreamUser
{
    /// <summary>The key every unauthenticated stream shares: anonymous viewers count as one user.</summary>
    public const string Anonymous = "";

    /// <summary>The name identifier (or JWT <c>sub</c>) of an authenticated caller, else <see cref="Anonymous"/>.</summary>
    public static string From(ClaimsPrincipal? user)
    {
        if (user?.Identity?.IsAuthenticated != true)
        {
            return Anonymous;
        }

        var id = user.FindFirst(ClaimTypes.NameIdentifier)?.Value
            ?? user.FindFirst("sub")?.Value
            ?? user.Identity.Name;
        return string.IsNullOrEmpty(id) ? Anonymous : id;
    }
}
