using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http;

// Same namespace as AddServiceDefaults, so a service needs no using.
namespace Microsoft.Extensions.Hosting;

/// <summary>The <c>Retry-After</c> of every service's rejections, written one way.</summary>
public static class RetryAfterExtensions
{
    /// <summary>
    /// Whole seconds (the delta-seconds form), rounded up so a client never comes back early, and at least 1 so
    /// "0" never invites an immediate retry.
    /// </summary>
    public static string FormatRetryAfter(TimeSpan delay) =>
        Math.Max(1, (int)Math.Ceiling(delay.TotalSeconds)).ToString(CultureInfo.InvariantCulture);

    public static void SetRetryAfter(this HttpResponse response, TimeSpan delay)
    {
        ArgumentNullException.ThrowIfNull(response);
        response.Headers.RetryAfter = FormatRetryAfter(delay);
    }

    /// <summary>
    /// For a rate limiter's <c>OnRejected</c>: sets <c>Retry-After</c> when the lease says when to retry (a token
    /// bucket does, a concurrency limiter does not) and returns that delay.
    /// </summary>
    public static TimeSpan? SetRetryAfter(this HttpResponse response, RateLimitLease lease)
    {
        ArgumentNullException.ThrowIfNull(response);
        ArgumentNullException.ThrowIfNull(lease);
        if (!lease.TryGetMetadata(MetadataName.RetryAfter, out var delay))
        {
            return null;
        }

        response.SetRetryAfter(delay);
        return delay;
    }
}
