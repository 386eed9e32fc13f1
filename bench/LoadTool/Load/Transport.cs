using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;

namespace LoadTool.Load;

/// <summary>
/// The client's connections. HTTP/2: one handler per group of <see cref="LoadOptions.StreamsPerConnection"/> streams,
/// each held to a single connection, so the layout is exactly what was asked (a browser puts every stream of an
/// origin on one connection). HTTP/1.1: one handler, one connection per open stream, connecting from several
/// loopback addresses when asked so ports never run out.
/// </summary>
public sealed class Transport : IDisposable
{
    // Linux IP_BIND_ADDRESS_NO_PORT (IPPROTO_IP = 0): connect() picks the port for the whole 4-tuple instead of
    // bind() reserving one per source address, so each source address has the full ephemeral range per server.
    private const int IpProtocolIp = 0;
    private const int IpBindAddressNoPort = 24;

    private readonly LoadOptions _options;
    private readonly List<HttpMessageInvoker> _invokers = [];
    private readonly IPAddress[] _sources;
    private int _nextSource;
    private int _connections;

    public Transport(LoadOptions options)
    {
        _options = options;
        _sources = options.SourceAddresses <= 1
            ? []
            : [.. Enumerable.Range(1, options.SourceAddresses).Select(i => new IPAddress([127, 0, 0, (byte)i]))];
    }

    public bool IsHttp2 => _options.HttpVersion.Major == 2;

    /// <summary>TCP connections opened so far (including ones since closed).</summary>
    public int ConnectionsOpened => Volatile.Read(ref _connections);

    /// <summary>The invoker for stream number <paramref name="slot"/> (HTTP/2: slot / streams-per-connection).</summary>
    public HttpMessageInvoker For(int slot)
    {
        var index = IsHttp2 ? slot / _options.StreamsPerConnection : 0;
        lock (_invokers)
        {
            while (_invokers.Count <= index)
            {
                _invokers.Add(new HttpMessageInvoker(CreateHandler(), disposeHandler: true));
            }

            return _invokers[index];
        }
    }

    public HttpRequestMessage CreateRequest(HttpMethod method, Uri uri) => new(method, uri)
    {
        Version = _options.HttpVersion,
        VersionPolicy = HttpVersionPolicy.RequestVersionExact,
    };

    public void Dispose()
    {
        lock (_invokers)
        {
            foreach (var invoker in _invokers)
            {
                invoker.Dispose();
            }

            _invokers.Clear();
        }
    }

    private SocketsHttpHandler CreateHandler()
    {
        var handler = new SocketsHttpHandler
        {
            UseProxy = false,
            UseCookies = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            EnableMultipleHttp2Connections = false,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(30),
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            MaxResponseDrainSize = 0,
            ConnectTimeout = TimeSpan.FromSeconds(15),
            ConnectCallback = ConnectAsync,
        };

        if (_options.PinnedCertificateSha256 is { } pinned)
        {
            handler.SslOptions = new SslClientAuthenticationOptions
            {
                // Benchmark certificates are self-signed; accept exactly the one the suite made, nothing else.
                RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                    certificate is not null && string.Equals(Convert.ToHexString(SHA256.HashData(certificate.GetRawCertData())), pinned, StringComparison.OrdinalIgnoreCase),
            };
        }

        return handler;
    }

    private async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            if (_sources.Length > 0)
            {
                socket.SetRawSocketOption(IpProtocolIp, IpBindAddressNoPort, BitConverter.GetBytes(1));
                socket.Bind(new IPEndPoint(_sources[(int)((uint)Interlocked.Increment(ref _nextSource) % _sources.Length)], 0));
            }

            await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
            Interlocked.Increment(ref _connections);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
