using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Mvc;

namespace Edge.Proxy.Forwarding;

/// <summary>
/// The last step before a proxied request leaves the edge: it measures the request as the upstream's Kestrel will
/// (every transform applied, HTTP/2 pseudo-headers and trace context included) and answers a request over
/// <see cref="UpstreamLimits"/> itself, 431 (414 for the path) with a problem body, instead of sending it. An HTTP/2
/// upstream ends its whole connection over one oversized header, and with it every other user's stream on it.
/// </summary>
public sealed class UpstreamHeaderLimitHandler(UpstreamLimits limits, string clusterId, ILogger logger) : DelegatingHandler
{
    /// <summary>RFC 9113 §6.5.2: a field's size is its name and value in octets plus 32.</summary>
    public const int FieldOverhead = 32;

    // SocketsHttpHandler adds trace context after this handler has run; a traceparent is always 55 characters.
    private const string TraceParent = "traceparent";
    private const int TraceParentLength = 55;

    private static readonly JsonSerializerOptions ProblemJson = new(JsonSerializerDefaults.Web);

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Measure(request, limits) is { } refusal
            ? Task.FromResult(Refuse(request, refusal))
            : base.SendAsync(request, cancellationToken);
    }

    /// <summary>Which limit the request breaks, or null. Sizes are Latin-1 bytes, as the clusters send headers.</summary>
    public static Refusal? Measure(HttpRequestMessage request, UpstreamLimits limits)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(limits);
        var uri = request.RequestUri ?? throw new InvalidOperationException("A proxied request has a destination.");
        var total = 0;
        var count = 0;
        Refusal? refusal = null;

        void Field(string name, int valueLength)
        {
            count++;
            total += FieldOverhead + name.Length + valueLength;
            if (refusal is null && (name.Length > limits.MaxRequestHeaderFieldSize || valueLength > limits.MaxRequestHeaderFieldSize))
            {
                refusal = name == ":path" ? Refusal.PathTooLong : Refusal.FieldTooLarge;
            }
        }

        var authority = request.Headers.Host ?? uri.Authority;
        Field(":method", request.Method.Method.Length);
        Field(":scheme", uri.Scheme.Length);
        Field(":authority", authority.Length);
        Field(":path", uri.PathAndQuery.Length);
        if (request.Method.Method.Length + uri.Scheme.Length + authority.Length + uri.PathAndQuery.Length > limits.MaxRequestLineSize)
        {
            refusal ??= Refusal.PathTooLong;
        }

        // The propagator replaces whatever trace headers the client sent with those of the current activity.
        var propagator = DistributedContextPropagator.Current;
        var traceFields = propagator.Fields;
        foreach (var header in request.Headers.NonValidated)
        {
            if (!header.Key.Equals("Host", StringComparison.OrdinalIgnoreCase) && !traceFields.Contains(header.Key, StringComparer.OrdinalIgnoreCase))
            {
                Field(header.Key, Length(header.Value));
            }
        }

        if (request.Content is { } content)
        {
            foreach (var header in content.Headers.NonValidated)
            {
                Field(header.Key, Length(header.Value));
            }
        }

        var injected = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase) { [TraceParent] = TraceParentLength };
        propagator.Inject(Activity.Current, injected, static (carrier, name, value) =>
        {
            var fields = (Dictionary<string, int>)carrier!;
            fields[name] = Math.Max(fields.GetValueOrDefault(name), value?.Length ?? 0);
        });
        foreach (var (name, length) in injected)
        {
            Field(name, length);
        }

        return refusal
            ?? (total > limits.MaxRequestHeadersTotalSize ? Refusal.TotalTooLarge
            : count > limits.MaxRequestHeaderCount ? Refusal.TooManyFields
            : null);
    }

    /// <summary>Values of one name travel as one field, joined by a two-character separator.</summary>
    private static int Length(HeaderStringValues values)
    {
        var length = 0;
        var first = true;
        foreach (var value in values)
        {
            length += value.Length + (first ? 0 : 2);
            first = false;
        }

        return length;
    }

    private HttpResponseMessage Refuse(HttpRequestMessage request, Refusal refusal)
    {
        var (status, title, detail) = refusal switch
        {
            Refusal.PathTooLong => (HttpStatusCode.RequestUriTooLong, "URI Too Long",
                $"The path and query are longer than the service accepts ({limits.MaxRequestLineSize} bytes with the method and host)."),
            Refusal.FieldTooLarge => (HttpStatusCode.RequestHeaderFieldsTooLarge, "Request Header Fields Too Large",
                $"A request header is larger than the service accepts ({limits.MaxRequestHeaderFieldSize} bytes)."),
            Refusal.TotalTooLarge => (HttpStatusCode.RequestHeaderFieldsTooLarge, "Request Header Fields Too Large",
                $"The request headers together are larger than the service accepts ({limits.MaxRequestHeadersTotalSize} bytes)."),
            _ => (HttpStatusCode.RequestHeaderFieldsTooLarge, "Request Header Fields Too Large",
                $"The request has more headers than the service accepts ({limits.MaxRequestHeaderCount})."),
        };
        EdgeLog.UpstreamLimitExceeded(logger, clusterId, refusal, (int)status);

        var problem = new ProblemDetails
        {
            Type = status == HttpStatusCode.RequestUriTooLong ? "https://tools.ietf.org/html/rfc9110#section-15.5.15" : "https://tools.ietf.org/html/rfc6585#section-5",
            Title = title,
            Status = (int)status,
            Detail = detail,
        };
        return new HttpResponseMessage(status)
        {
            Version = request.Version,
            RequestMessage = request,
            Content = JsonContent.Create(problem, new MediaTypeHeaderValue("application/problem+json"), ProblemJson),
        };
    }
}

/// <summary>Which upstream limit a request breaks.</summary>
public enum Refusal
{
    PathTooLong,
    FieldTooLarge,
    TotalTooLarge,
    TooManyFields,
}
