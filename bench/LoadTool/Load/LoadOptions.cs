using System.Globalization;

namespace LoadTool.Load;

public enum AuthMode
{
    None,
    Bearer,
    Ticket,
}

/// <summary>How the client reaches the server: which URL, protocol, connections, credentials.</summary>
public sealed record LoadOptions
{
    /// <summary>The stream URL (http:// for HTTP/1.1 or h2c, https:// for TLS).</summary>
    public required Uri Url { get; init; }

    /// <summary>1.1 or 2. With http:// and 2 the client speaks h2c (prior knowledge).</summary>
    public Version HttpVersion { get; init; } = System.Net.HttpVersion.Version20;

    /// <summary>HTTP/2 streams multiplexed on one connection; a new connection every this many streams.</summary>
    public int StreamsPerConnection { get; init; } = 500;

    /// <summary>Local loopback addresses to connect from (127.0.0.x), round robin; helps HTTP/1.1 beyond one address's ports.</summary>
    public int SourceAddresses { get; init; } = 1;

    /// <summary>Streams being opened at once (requests in flight before their first frame).</summary>
    public int OpenConcurrency { get; init; } = 200;

    /// <summary>How long one stream may take to deliver its first frame before it counts as failed.</summary>
    public TimeSpan OpenTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Data events are the ones of this type (<c>message</c> = events without an <c>event:</c> line).</summary>
    public string EventType { get; init; } = "metrics";

    public AuthMode Auth { get; init; } = AuthMode.None;

    /// <summary>Streams given to each user (one token per user); stays under the server's per-user limit.</summary>
    public int StreamsPerUser { get; init; } = 5;

    public string JwtIssuer { get; init; } = "https://bench.local/dev-issuer";

    public string JwtAudience { get; init; } = "metrics-api";

    /// <summary>Base64 HS256 key shared with the server (the server is started with the same value).</summary>
    public string? JwtKey { get; init; }

    public string JwtScope { get; init; } = "metrics.read";

    /// <summary>Where tickets are requested (POST, bearer); default: /api/stream/tickets on the stream URL's origin.</summary>
    public Uri? TicketUrl { get; init; }

    /// <summary>Index of this process's first stream (several worker processes share one user numbering).</summary>
    public int FirstStream { get; init; }

    /// <summary>SHA-256 of the server certificate to accept (self-signed benchmark certificates). Without it, normal validation.</summary>
    public string? PinnedCertificateSha256 { get; init; }

    public static LoadOptions FromCli(Cli cli)
    {
        var url = cli.Value("--url") ?? throw new ArgumentException("--url is required.");
        var http = cli.Value("--http", "2");
        return new LoadOptions
        {
            Url = new Uri(url),
            HttpVersion = http switch
            {
                "1.1" or "1" => System.Net.HttpVersion.Version11,
                "2" => System.Net.HttpVersion.Version20,
                _ => throw new ArgumentException("--http is 1.1 or 2."),
            },
            StreamsPerConnection = cli.IntValue("--streams-per-connection", 500, 1, 100_000),
            SourceAddresses = cli.IntValue("--source-addresses", 1, 1, 250),
            OpenConcurrency = cli.IntValue("--open-concurrency", 200, 1, 10_000),
            OpenTimeout = TimeSpan.FromSeconds(cli.DoubleValue("--open-timeout", 30, 0.1, 600)),
            EventType = cli.Value("--event-type", "metrics"),
            Auth = Enum.Parse<AuthMode>(cli.Value("--auth", "none"), ignoreCase: true),
            StreamsPerUser = cli.IntValue("--streams-per-user", 5, 1, 1_000_000),
            JwtIssuer = cli.Value("--jwt-issuer", "https://bench.local/dev-issuer"),
            JwtAudience = cli.Value("--jwt-audience", "metrics-api"),
            JwtKey = cli.Value("--jwt-key"),
            JwtScope = cli.Value("--jwt-scope", "metrics.read"),
            TicketUrl = cli.Value("--ticket-url") is { } t ? new Uri(t) : null,
            PinnedCertificateSha256 = cli.Value("--pin-cert-sha256"),
            FirstStream = cli.IntValue("--first-stream", 0, 0, int.MaxValue),
        };
    }

    /// <summary>The same options as arguments, to start a worker process with.</summary>
    public IEnumerable<string> ToArgs()
    {
        var c = CultureInfo.InvariantCulture;
        yield return "--url";
        yield return Url.ToString();
        yield return "--http";
        yield return HttpVersion == System.Net.HttpVersion.Version11 ? "1.1" : "2";
        yield return "--streams-per-connection";
        yield return StreamsPerConnection.ToString(c);
        yield return "--source-addresses";
        yield return SourceAddresses.ToString(c);
        yield return "--open-concurrency";
        yield return OpenConcurrency.ToString(c);
        yield return "--open-timeout";
        yield return OpenTimeout.TotalSeconds.ToString(c);
        yield return "--event-type";
        yield return EventType;
        yield return "--auth";
        yield return Auth.ToString().ToLowerInvariant();
        yield return "--streams-per-user";
        yield return StreamsPerUser.ToString(c);
        yield return "--first-stream";
        yield return FirstStream.ToString(c);
        yield return "--jwt-issuer";
        yield return JwtIssuer;
        yield return "--jwt-audience";
        yield return JwtAudience;
        yield return "--jwt-scope";
        yield return JwtScope;
        if (JwtKey is not null)
        {
            yield return "--jwt-key";
            yield return JwtKey;
        }

        if (TicketUrl is not null)
        {
            yield return "--ticket-url";
            yield return TicketUrl.ToString();
        }

        if (PinnedCertificateSha256 is not null)
        {
            yield return "--pin-cert-sha256";
            yield return PinnedCertificateSha256;
        }
    }
}
