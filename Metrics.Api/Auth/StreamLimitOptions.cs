using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Metrics.Api.Auth;

/// <summary>
/// Per-user stream limits (section <c>Streaming:Limits</c>): per replica, or across replicas with the Redis backplane
/// (<c>Streaming:Backplane</c> = <c>Redis</c>, docs/auth.md).
/// </summary>
public sealed class StreamLimitOptions
{
    public const string SectionName = "Streaming:Limits";

    /// <summary>Streams one user may have open at once (on this replica, or on all with Redis); the next gets 429 with Retry-After.</summary>
    [Range(1, 1_000_000)]
    public int MaxStreamsPerUser { get; set; } = 10;

    /// <summary>The Retry-After sent with that 429.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan RetryAfter { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Redis backplane only: how long a stream's slot outlives its replica. Each replica renews its leases every
    /// third of this, so a replica that dies without releasing them frees its users' slots within this time.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan LeaseTtl { get; set; } = TimeSpan.FromSeconds(30);
}

[OptionsValidator]
public sealed partial class StreamLimitOptionsValidator : IValidateOptions<StreamLimitOptions>;
