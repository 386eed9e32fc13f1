using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Metrics.Api.Auth;

/// <summary>
/// Hardening of the access-token schemes (section <c>AccessTokens</c>). Where tokens come from is configured in
/// the standard <c>Authentication:Schemes:Bearer</c> section (Authority, ValidAudiences, ValidIssuer, SigningKeys).
/// </summary>
public sealed class AccessTokenOptions
{
    public const string SectionName = "AccessTokens";

    /// <summary>Leeway on <c>exp</c>/<c>nbf</c>. JwtBearer's default is 5 minutes; ours is explicit and small.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:00:30")]
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Signature algorithms accepted (RFC 8725 §3.1). Each is further tied to its key type: HS* only with a
    /// symmetric key (user-jwts), RS*/PS* only with RSA keys (Entra ID), ES* only with EC keys.
    /// </summary>
    [MinLength(1)]
    public List<string> ValidAlgorithms { get; set; } = ["RS256", "HS256"];

    /// <summary>
    /// Accepted <c>typ</c> headers. Entra ID and user-jwts send <c>JWT</c>, RFC 9068 issuers <c>at+jwt</c>; a stream
    /// ticket (<c>metrics-stream+jwt</c>) is never an access token.
    /// </summary>
    [MinLength(1)]
    public List<string> ValidTypes { get; set; } = ["JWT", "at+jwt"];

    /// <summary>Longest access token read, in characters (checked before parsing).</summary>
    [Range(1024, 65536)]
    public int MaxLength { get; set; } = 16 * 1024;
}

[OptionsValidator]
public sealed partial class AccessTokenOptionsValidator : IValidateOptions<AccessTokenOptions>;
