using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Edge.Proxy.Security;

/// <summary>
/// Browser security headers the edge adds to responses that do not carry them already (section
/// <c>Edge:SecurityHeaders</c>). An upstream that sets its own header wins.
/// </summary>
public sealed class SecurityHeadersOptions
{
    public const string SectionName = "Edge:SecurityHeaders";

    /// <summary>
    /// For the dashboard: a Vite-built React SPA served from this same origin. Scripts only from the origin (no
    /// inline script, Vite emits none), inline styles allowed (React style attributes and CSS-in-JS), API and
    /// event streams on the same origin, never framed.
    /// </summary>
    [Required]
    public string ContentSecurityPolicy { get; set; } =
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; " +
        "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

    [Required]
    public string ReferrerPolicy { get; set; } = "strict-origin-when-cross-origin";

    /// <summary>For browsers that predate CSP frame-ancestors.</summary>
    [Required]
    public string FrameOptions { get; set; } = "DENY";

    /// <summary>HSTS max-age, sent only over HTTPS and outside Development.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "730.00:00:00")]
    public TimeSpan HstsMaxAge { get; set; } = TimeSpan.FromDays(365);
}

[OptionsValidator]
public sealed partial class SecurityHeadersOptionsValidator : IValidateOptions<SecurityHeadersOptions>;
