using System.Buffers.Binary;
using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Tests.Shared;

namespace LoadTool;

/// <summary>
/// The client of every HTTP/2 target: a minimal HTTP/2 client (RFC 9113; h2c with prior knowledge, or TLS with ALPN h2), many
/// streams on one connection, every frame read by one loop that hands each DATA payload to its <see cref="SseSubscription"/>.
/// HttpClient's per-stream read loops cost ~14 µs of CPU per event at 10k streams, which on 2 shared cores lands in the latency
/// measured (~100 ms of the p99 at 10k × 1/s); this costs ~1 µs. Only what a GET of an event stream needs: SETTINGS, HEADERS
/// (HPACK literals, no Huffman, no dynamic table), DATA, windows opened to the maximum, PING/SETTINGS acks, RST_STREAM;
/// responses decoded only as far as <c>:status</c> (a block never decoded cannot change decoder state we do not keep).
/// </summary>
public sealed class H2Connection : IAsyncDisposable
{
    private const byte Data = 0x0, Headers = 0x1, RstStream = 0x3, Settings = 0x4, Ping = 0x6, GoAway = 0x7, WindowUpdate = 0x8;
    private const byte EndStream = 0x1, Ack = 0x1, EndHeaders = 0x4, Padded = 0x8, Priority = 0x20;
    private const int MaxWindow = int.MaxValue;
    private static readonly int[] s_staticStatus = [200, 204, 206, 304, 400, 404, 500]; // HPACK static table 8..14
    private readonly ConcurrentDictionary<int, SseSubscription> _streams = new();
    private readonly SemaphoreSlim _write = new(1, 1);
    private readonly CancellationTokenSource _stop = new();
    private readonly Stream _stream;
    private readonly bool _tls;
    private readonly string _authority;
    private Task _readLoop = Task.CompletedTask;
    private long _unacknowledged;
    private int _nextId = 1;

    private H2Connection(Stream stream, bool tls, string authority) => (_stream, _tls, _authority) = (stream, tls, authority);

    /// <summary>Why the connection ended (null while it is up).</summary>
    public string? Ended { get; private set; }

    /// <summary>Connects to <paramref name="origin"/>: http = h2c; https = TLS with ALPN h2, accepting the certificate <paramref name="pinnedSha256"/>.</summary>
    public static async Task<H2Connection> ConnectAsync(Uri origin, string? pinnedSha256, CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true, ReceiveBufferSize = 1 << 20 };
        Stream? stream = null;
        try
        {
            await socket.ConnectAsync(new DnsEndPoint(origin.Host, origin.Port), cancellationToken);
            stream = new NetworkStream(socket, ownsSocket: true);
            if (origin.Scheme == Uri.UriSchemeHttps)
            {
                var ssl = new SslStream(stream);
                stream = ssl;
                await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
                {
                    TargetHost = origin.Host,
                    ApplicationProtocols = [SslApplicationProtocol.Http2],
                    RemoteCertificateValidationCallback = (_, certificate, _, _) => Accepts(certificate, pinnedSha256),
                }, cancellationToken);
                if (ssl.NegotiatedApplicationProtocol != SslApplicationProtocol.Http2) throw new IOException("alpn_not_h2");
            }

            var connection = new H2Connection(stream, origin.Scheme == Uri.UriSchemeHttps, $"{origin.Host}:{origin.Port}");
            // The preface; SETTINGS: no push (2 = 0), a stream window (4) so large the server never waits on a stream's credit.
            await stream.WriteAsync((byte[])[.. "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8, .. Frame(Settings, 0, 0, [0, 2, 0, 0, 0, 0, 0, 4, 0x7F, 0xFF, 0xFF, 0xFF]),
                .. Frame(WindowUpdate, 0, 0, BigEndian(MaxWindow - 65_535))], cancellationToken);
            connection._readLoop = Task.Run(connection.ReadLoopAsync, CancellationToken.None);
            return connection;
        }
        catch
        {
            socket.Dispose();
            stream?.Dispose();
            throw;
        }
    }

    /// <summary>Benchmark certificates are self-signed: exactly the pinned one is accepted ("any": every one).</summary>
    public static bool Accepts(X509Certificate? certificate, string? pinnedSha256) =>
        pinnedSha256 == "any" || (pinnedSha256 is not null && SelfSignedCertificate.Matches(certificate, pinnedSha256));

    /// <summary>Sends a GET for <paramref name="pathAndQuery"/> on a new stream of this connection, read by <paramref name="sse"/>.</summary>
    public async Task OpenAsync(SseSubscription sse, string pathAndQuery, string? bearer, CancellationToken cancellationToken)
    {
        // :method GET, :scheme https | http, then literals with static name indices: :path, :authority, accept, cache-control, authorization.
        var block = new List<byte> { 0x82, _tls ? (byte)0x87 : (byte)0x86 };
        foreach (var (index, value) in new[] { (4, pathAndQuery), (1, _authority), (19, "text/event-stream"), (24, "no-cache"), (23, bearer is null ? null : "Bearer " + bearer) })
        {
            if (value is null) continue;
            Integer(block, 4, index); // "literal header field without indexing" (RFC 7541 §6.2.2), value not Huffman-coded
            Integer(block, 7, value.Length);
            block.AddRange(Encoding.ASCII.GetBytes(value));
        }

        await _write.WaitAsync(cancellationToken);
        try
        {
            if (Ended is not null)
            {
                sse.End(Ended);
                return;
            }

            var id = _nextId;
            _nextId += 2;
            _streams[id] = sse;
            sse.CloseTransport = () => Reset(id);
            await _stream.WriteAsync(Frame(Headers, EndHeaders | EndStream, id, [.. block]), cancellationToken);
        }
        finally
        {
            _write.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        Ended ??= "closed";
        await _stop.CancelAsync();
        await _stream.DisposeAsync();
        await _readLoop;
        _stop.Dispose();
    }

    private void Reset(int id)
    {
        if (_streams.TryRemove(id, out _)) Send(Frame(RstStream, 0, id, BigEndian(0x8))); // CANCEL
    }

    private async Task ReadLoopAsync()
    {
        var (buffer, filled) = (new byte[256 * 1024], 0);
        try
        {
            for (int read; (read = await _stream.ReadAsync(buffer.AsMemory(filled), _stop.Token)) > 0;)
            {
                filled += read;
                var consumed = 0;
                for (int length; filled - consumed >= 9 && filled - consumed - 9 >= (length = (buffer[consumed] << 16) | (buffer[consumed + 1] << 8) | buffer[consumed + 2]); consumed += 9 + length)
                {
                    var header = buffer.AsSpan(consumed, 9);
                    OnFrame(header[3], header[4], (int)(BinaryPrimitives.ReadUInt32BigEndian(header[5..]) & 0x7FFF_FFFF), buffer.AsSpan(consumed + 9, length));
                }

                buffer.AsSpan(consumed, filled - consumed).CopyTo(buffer);
                filled -= consumed;
                if (filled == buffer.Length) Array.Resize(ref buffer, buffer.Length * 2); // a frame larger than the buffer
            }

            Ended ??= "server_ended";
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or IOException or SocketException)
        {
            Ended ??= e is IOException { InnerException: SocketException s } ? "socket_" + s.SocketErrorCode : "io_error";
        }

        foreach (var id in _streams.Keys) End(id, Ended);
    }

    private void OnFrame(byte type, byte flags, int id, ReadOnlySpan<byte> payload)
    {
        var body = (flags & Padded) == 0 || type is not (Data or Headers) || payload.IsEmpty ? payload : payload.Length - 1 >= payload[0] ? payload[1..^payload[0]] : [];
        switch (type)
        {
            case Data:
                // Flow control counts the whole payload, padding included; the credit goes back in large steps.
                if ((_unacknowledged += payload.Length) > MaxWindow / 2)
                {
                    Send(Frame(WindowUpdate, 0, 0, BigEndian((int)_unacknowledged)));
                    _unacknowledged = 0;
                }

                if (_streams.TryGetValue(id, out var reader)) reader.OnData(body);
                break;
            case Headers when _streams.TryGetValue(id, out var sse):
                // :status, the first field: indexed (static entries 8-14), or a literal with name index 8 and three plain digits.
                var block = (flags & Priority) != 0 ? body[5..] : body;
                sse.OnStatus(block.IsEmpty ? 0 : block[0] is >= 0x88 and <= 0x8E ? s_staticStatus[block[0] - 0x88]
                    : block.Length >= 5 && (block[0] & 0x0F) == 8 && block[1] == 3 && Utf8Parser.TryParse(block[2..5], out int code, out _) ? code : 0);
                break;
            case RstStream:
                End(id, payload.Length >= 4 ? $"rst_stream_{BinaryPrimitives.ReadUInt32BigEndian(payload)}" : "rst_stream");
                break;
            case Settings when (flags & Ack) == 0:
                Send(Frame(Settings, Ack, 0, []));
                break;
            case Ping when (flags & Ack) == 0:
                Send(Frame(Ping, Ack, 0, payload));
                break;
            case GoAway:
                Ended = "goaway";
                break;
            default:
                break; // CONTINUATION (headers we do not decode), WINDOW_UPDATE, PRIORITY, acknowledgements
        }

        if (type is Data or Headers && (flags & EndStream) != 0) End(id, "server_ended");
    }

    private void End(int id, string cause)
    {
        if (_streams.TryRemove(id, out var sse)) sse.End(cause);
    }

    /// <summary>Writes a frame from the read loop or a closing stream, after any write in progress; never throws.</summary>
    private async void Send(byte[] frame)
    {
        try
        {
            await _write.WaitAsync(_stop.Token);
            try
            {
                await _stream.WriteAsync(frame, _stop.Token);
            }
            finally
            {
                _write.Release();
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or IOException or NotSupportedException or InvalidOperationException)
        {
            // The connection is going away; the read loop ends the streams.
        }
    }

    private static byte[] BigEndian(int value) => [(byte)(value >> 24), (byte)(value >> 16), (byte)(value >> 8), (byte)value];

    private static byte[] Frame(byte type, byte flags, int id, ReadOnlySpan<byte> payload)
    {
        var frame = new byte[9 + payload.Length];
        (frame[0], frame[1], frame[2], frame[3], frame[4]) = ((byte)(payload.Length >> 16), (byte)(payload.Length >> 8), (byte)payload.Length, type, flags);
        BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(5), id);
        payload.CopyTo(frame.AsSpan(9));
        return frame;
    }

    /// <summary>An HPACK integer with an N-bit prefix (RFC 7541 §5.1), the pattern bits above it 0.</summary>
    private static void Integer(List<byte> block, int prefixBits, int value)
    {
        var max = (1 << prefixBits) - 1;
        if (value < max)
        {
            block.Add((byte)value);
            return;
        }

        block.Add((byte)max);
        for (value -= max; value >= 128; value /= 128) block.Add((byte)((value % 128) + 128));
        block.Add((byte)value);
    }
}
