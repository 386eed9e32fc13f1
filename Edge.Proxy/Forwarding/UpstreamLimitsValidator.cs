using Edge.Proxy.Hosting;
using Microsoft.Extensions.Options;

namespace Edge.Proxy.Forwarding;

/// <summary>
/// The edge must read every request it would refuse to forward, so that it can answer 431 itself: a header that
/// only its own Kestrel refuses ends the client's whole HTTP/2 connection (the ingress's, behind Container Apps).
/// </summary>
public sealed class UpstreamLimitsValidator(IOptions<EdgeServerOptions> server) : IValidateOptions<EdgeProxyOptions>
{
    public ValidateOptionsResult Validate(string? name, EdgeProxyOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var upstream = options.UpstreamLimits;
        var edge = server.Value;
        var failures = new List<string>();
        Check(nameof(UpstreamLimits.MaxRequestHeaderFieldSize), upstream.MaxRequestHeaderFieldSize, edge.MaxRequestHeaderFieldSize);
        Check(nameof(UpstreamLimits.MaxRequestHeadersTotalSize), upstream.MaxRequestHeadersTotalSize, edge.MaxRequestHeadersTotalSize);
        Check(nameof(UpstreamLimits.MaxRequestHeaderCount), upstream.MaxRequestHeaderCount, edge.MaxRequestHeaderCount);
        Check(nameof(UpstreamLimits.MaxRequestLineSize), upstream.MaxRequestLineSize, edge.MaxRequestLineSize);
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);

        void Check(string key, int forwarded, int read)
        {
            if (forwarded > read)
            {
                failures.Add(
                    $"{EdgeProxyOptions.SectionName}:{nameof(EdgeProxyOptions.UpstreamLimits)}:{key} ({forwarded}) is larger than "
                    + $"{EdgeServerOptions.SectionName}:{key} ({read}): the edge must read what it refuses to forward, to answer 431 itself.");
            }
        }
    }
}
