using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Edge.Proxy.Tests.Infrastructure;

public static class Clients
{
    /// <summary>
    /// A browser-like client: HTTPS, ALPN h2, everything multiplexed on one connection (no second HTTP/2 connection
    /// when the server's stream limit is reached). Trusts only the test certificate. Counts the TCP connections it opens.
    /// </summary>
    public static HttpClient Http2OverTls(ConnectionCounter? connections = null, Encoding? headerEncoding = null) =>
        Create(HttpVersion.Version20, connections, headerEncoding);

    /// <summary>h2c with prior knowledge, as Azure Container Apps ingress with transport http2 speaks to the edge.</summary>
    public static HttpClient H2c(ConnectionCounter? connections = null, Encoding? headerEncoding = null) =>
        Create(HttpVersion.Version20, connections, headerEncoding);

    public static HttpClient Http11(ConnectionCounter? connections = null, Encoding? headerEncoding = null) =>
        Create(HttpVersion.Version11, connections, headerEncoding);

    /// <param name="headerEncoding">How header values become bytes; null refuses non-ASCII. Latin-1 sends any byte as is.</param>
    private static HttpClient Create(Version version, ConnectionCounter? connections, Encoding? headerEncoding)
    {
        var handler = new SocketsHttpHandler
        {
            EnableMultipleHttp2Connections = false,
            AutomaticDecompression = DecompressionMethods.None,
            UseProxy = false,
            ConnectTimeout = TimeSpan.FromSeconds(10),

            // Leaving a stream closes the HTTP/1.1 connection at once, as a browser does, instead of draining
            // the rest of the body for up to two seconds to reuse the connection.
            MaxResponseDrainSize = 0,
        };
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, _) => TestCertificate.Validate(certificate);
        if (headerEncoding is not null)
        {
            handler.RequestHeaderEncodingSelector = (_, _) => headerEncoding;
        }

        if (connections is not null)
        {
            handler.ConnectCallback = async (context, cancellationToken) =>
            {
                connections.Increment();
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            };
        }

        return new HttpClient(handler)
        {
            DefaultRequestVersion = version,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Timeout = Timeout.InfiniteTimeSpan,
        };
    }

    /// <summary>
    /// A URL sent exactly as written. <see cref="Uri"/> otherwise decodes percent-encoded letters (<c>tick%65t</c> would
    /// leave as <c>ticket</c>), and a test of how the edge treats other spellings would test nothing.
    /// </summary>
    public static Uri Raw(Uri baseUrl, string pathAndQuery) =>
        new(baseUrl.GetLeftPart(UriPartial.Authority) + pathAndQuery, new UriCreationOptions { DangerousDisablePathAndQueryCanonicalization = true });
}

public sealed class ConnectionCounter
{
    private int _count;

    public int Count => Volatile.Read(ref _count);

    public void Increment() => Interlocked.Increment(ref _count);
}

/// <summary>The three ways in: HTTP/1.1 on the probe port, HTTP/2 over TLS (browsers), h2c (Container Apps ingress).</summary>
public static class ClientProtocol
{
    public const string Http11 = "http1.1";
    public const string Http2Tls = "h2";
    public const string H2c = "h2c";

    public static (HttpClient Client, Uri BaseUrl) For(string protocol, EdgeHost edge, ConnectionCounter? connections = null, Encoding? headerEncoding = null) => protocol switch
    {
        Http11 => (Clients.Http11(connections, headerEncoding), edge.HttpUrl),
        Http2Tls => (Clients.Http2OverTls(connections, headerEncoding), edge.HttpsUrl),
        H2c => (Clients.H2c(connections, headerEncoding), edge.H2cUrl),
        _ => throw new ArgumentOutOfRangeException(nameof(protocol), protocol, null),
    };
}
