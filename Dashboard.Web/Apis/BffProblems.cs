using Microsoft.AspNetCore.Mvc;

namespace Dashboard.Web.Apis;

/// <summary>
/// The problem details (RFC 9457) the BFF answers with. Each has a stable <c>type</c> the page can
/// switch on, and none says more than the page needs.
/// </summary>
public static class BffProblems
{
    public const string AntiforgeryType = "urn:dashboard:antiforgery";
    public const string SignedOutType = "urn:dashboard:signed-out";
    public const string ForbiddenType = "urn:dashboard:forbidden";
    public const string MetricsApiUnavailableType = "urn:dashboard:metrics-api-unavailable";
    public const string RateLimitedType = "urn:dashboard:rate-limited";
    public const string HttpsRequiredType = "urn:dashboard:https-required";
    public const string NotFoundType = "urn:dashboard:not-found";

    public static ProblemDetails Antiforgery() => new()
    {
        Status = StatusCodes.Status400BadRequest,
        Type = AntiforgeryType,
        Title = "Antiforgery token missing or invalid",
        Detail = "Send the token from GET /bff/antiforgery in its header; get a new one after signing in or out.",
    };

    public static ProblemDetails SignedOut(string? detail = null) => new()
    {
        Status = StatusCodes.Status401Unauthorized,
        Type = SignedOutType,
        Title = "Signed out",
        Detail = detail ?? "Sign in to use the dashboard.",
    };

    public static ProblemDetails Forbidden() => new()
    {
        Status = StatusCodes.Status403Forbidden,
        Type = ForbiddenType,
        Title = "Forbidden",
        Detail = "Your account may not see the live metrics.",
    };

    public static ProblemDetails MetricsApiUnavailable(string detail) => new()
    {
        Status = StatusCodes.Status502BadGateway,
        Type = MetricsApiUnavailableType,
        Title = "Metrics API unavailable",
        Detail = detail,
    };

    public static ProblemDetails RateLimited() => new()
    {
        Status = StatusCodes.Status429TooManyRequests,
        Type = RateLimitedType,
        Title = "Too many requests",
        Detail = "Too many stream tickets in a short time; try again shortly.",
    };

    public static ProblemDetails HttpsRequired() => new()
    {
        Status = StatusCodes.Status400BadRequest,
        Type = HttpsRequiredType,
        Title = "HTTPS required",
        Detail = "Reach the dashboard through the edge over HTTPS (it forwards X-Forwarded-Proto).",
    };

    public static ProblemDetails NotFound(string detail) => new()
    {
        Status = StatusCodes.Status404NotFound,
        Type = NotFoundType,
        Title = "Not found",
        Detail = detail,
    };

    /// <summary>Writes a problem directly (for authentication events and filters that have no result to return).</summary>
    public static async Task WriteAsync(HttpContext context, ProblemDetails problem)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(problem);
        context.Response.StatusCode = problem.Status ?? StatusCodes.Status500InternalServerError;
        context.Response.Headers.CacheControl = "no-store";
        var writer = context.RequestServices.GetRequiredService<IProblemDetailsService>();
        await writer.WriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = problem });
    }
}
