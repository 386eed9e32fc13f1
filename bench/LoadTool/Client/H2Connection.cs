using System.Buffers;
using System.Buffers.Binary;
using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace LoadTool;

/// <summary>
/// The client for every HTTP/2 target: a minimal HTTP/2 client (RFC 9113), h2c with prior knowledge or TLS with ALPN
/// h2, that puts many event streams on one connection and reads every frame of the connection in one loop, handing
/// each DATA payload to its <see cref="SseSubscription"/>.
/// <para>
/// Why not HttpClient: it costs ~14 µs of CPU per received event at 10k streams (a task, a read and a continuation
/// per stream per DATA frame), more than a server spends sending it; on 2 shared cores that lands in the latency
/// being measured (~100 ms of the p99 at 10k × 1/s). This reader costs about a microsecond per event, so the figures
/// are the servers'. Only what a GET of an event stream needs is implemented: preface and SETTINGS, one HEADERS frame
/// per request (HPACK literals, no Huffman, no dynamic table), DATA, flow control by windows opened to the maximum
/// and topped up, PING and SETTINGS acknowledgements, RST_STREAM to close a stream. Response headers are decoded
/// only as far as <c>:status</c> (the first field): a header block never decoded cannot change a decoder state we do
/// not keep.
/// </para>
/// </summary>
public sealed class H2Connection : IAsyncDisposable
{
    private const byte Data = 0x0, Headers = 0x1, RstStream = 0x3, Settings = 0x4, Ping = 0x6, GoAway = 0x7, WindowUpdate = 0x8;
    private const byte EndStream = 0x1, Ack = 0x1, EndHeaders = 0x4, Padded = 0x8, Priority = 0x20;
    private const int FrameHeader = 9, MaxWindow = int.MaxValue;
    private static readonly byte[] s_preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray();
    private static readonly int[] s_staticStatus = [200, 204, 206, 304, 400, 404, 500]; // HPACK static table 8..14

    private readonly Stream _stream;
    private readonly bool _tls;
    private readonly string _authority;
    private readonly ConcurrentDictionary<int, SseSubscription> _streams = new();
    private readonly SemaphoreSlim _write = new(1, 1);
    private readonly CancellationTokenSource _stop = new();
    private Task _readLoop = Task.CompletedTask;
    private long _unacknowledged;
    private int _nextId = 1;
    private string? _ended;

    private H2Connection(Stream stream, bool tls, string authority) => (_stream, _tls, _authority) = (stream, tls, authority);

    /// <summary>
    /// Connects to <paramref name="origin"/> (http: h2c; https: TLS, ALPN h2, accepting exactly the certificate whose
    /// SHA-256 is <paramref name="pinnedSha256"/>, or any certificate when it is "any").
    /// </summary>
    public static async Task<H2Connection> ConnectAsync(Uri origin, string? pinnedSha256, CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true, ReceiveBufferSize = 1 << 20 };
        Stream stream;
        try
        {
            await socket.ConnectAsync(new DnsEndPoint(origin.Host, origin.Port), cancellationToken);
            stream = new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        var tls = origin.Scheme == Uri.UriSchemeHttps;
        if (tls)
        {
            var ssl = new SslStream(stream, leaveInnerStreamOpen: false);
            stream = ssl;
            await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = origin.Host,
                ApplicationProtocols = [SslApplicationProtocol.Http2],
                RemoteCertificateValidationCallback = (_, certificate, _, _) => Accepts(certificate, pinnedSha256),
            }, cancellationToken);
            if (ssl.NegotiatedApplicationProtocol != SslApplicationProtocol.Http2)
            {
                await ssl.DisposeAsync();
                throw new IOException("alpn_not_h2");
            }
        }

        var connection = new H2Connection(stream, tls, $"{origin.Host}:{origin.Port}");
        var setup = new ArrayBufferWriter<byte>();
        setup.Write(s_preface);
        // SETTINGS: no push (2 = 0), a stream window (4) so large the server never waits on a stream's credit.
        Span<byte> settings = [0, 2, 0, 0, 0, 0, 0, 4, 0x7F, 0xFF, 0xFF, 0xFF];
        WriteFrame(setup, Settings, 0, 0, settings);
        WriteFrame(setup, WindowUpdate, 0, 0, BigEndian(MaxWindow - 65_535));
        await stream.WriteAsync(setup.WrittenMemory, cancellationToken);
        await stream.FlushAsync(cancellationToken);
        connection._readLoop = Task.Run(connection.ReadLoopAsync, CancellationToken.None);
        return connection;
    }

    /// <summary>Benchmark certificates are self-signed: exactly the pinned one is accepted ("any": every one).</summary>
    public static bool Accepts(X509Certificate? certificate, string? pinnedSha256) => pinnedSha256 == "any" || (certificate is not null
        && string.Equals(Convert.ToHexString(SHA256.HashData(certificate.GetRawCertData())), pinnedSha256, StringComparison.OrdinalIgnoreCase));

    /// <summary>Why the connection ended (null while it is up).</summary>
    public string? Ended => _ended;

    /// <summary>Sends a GET for <paramref name="pathAndQuery"/> on a new stream of this connection, read by <paramref name="sse"/>.</summary>
    public async Task OpenAsync(SseSubscription sse, string pathAndQuery, string? bearer, CancellationToken cancellationToken)
    {
        var block = new ArrayBufferWriter<byte>();
        block.Write(new byte[] { 0x82, _tls ? (byte)0x87 : (byte)0x86 }); // :method GET, :scheme https | http
        Literal(block, 4, pathAndQuery); // :path
        Literal(block, 1, _authority); // :authority
        Literal(block, 19, "text/event-stream"); // accept
        Literal(block, 24, "no-cache"); // cache-control
        if (bearer is not null)
        {
            Literal(block, 23, "Bearer " + bearer); // authorization
        }

        await _write.WaitAsync(cancellationToken);
        try
        {
            if (_ended is not null)
            {
                sse.End(_ended);
                return;
            }

            var id = _nextId;
            _nextId += 2;
            _streams[id] = sse;
            sse.CloseTransport = () => Reset(id);
            var frame = new ArrayBufferWriter<byte>();
            WriteFrame(frame, Headers, EndHeaders | EndStream, id, block.WrittenSpan);
            await _stream.WriteAsync(frame.WrittenMemory, cancellationToken);
            await _stream.FlushAsync(cancellationToken);
        }
        finally
        {
            _write.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _ended ??= "closed";
        await _stop.CancelAsync();
        await _stream.DisposeAsync();
        await _readLoop;
        _stop.Dispose();
    }

    private void Reset(int id)
    {
        if (_streams.TryRemove(id, out _))
        {
            Send(RstStream, 0, id, BigEndian(0x8)); // CANCEL
        }
    }

    private async Task ReadLoopAsync()
    {
        var buffer = new byte[256 * 1024];
        var filled = 0;
        try
        {
            int read;
            while ((read = await _stream.ReadAsync(buffer.AsMemory(filled), _stop.Token)) > 0)
            {
                filled += read;
                var consumed = 0;
                while (filled - consumed >= FrameHeader)
                {
                    var header = buffer.AsSpan(consumed, FrameHeader);
                    var length = (header[0] << 16) | (header[1] << 8) | header[2];
                    if (filled - consumed - FrameHeader < length) break;

                    var id = (int)(BinaryPrimitives.ReadUInt32BigEndian(header[5..]) & 0x7FFF_FFFF);
                    OnFrame(header[3], header[4], id, buffer.AsSpan(consumed + FrameHeader, length));
                    consumed += FrameHeader + length;
                }

                buffer.AsSpan(consumed, filled - consumed).CopyTo(buffer);
                filled -= consumed;
                if (filled == buffer.Length)
                {
                    Array.Resize(ref buffer, buffer.Length * 2); // a frame larger than the buffer
                }
            }

            _ended ??= "server_ended";
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or IOException or SocketException)
        {
            _ended ??= e is IOException { InnerException: SocketException s } ? "socket_" + s.SocketErrorCode : "io_error";
        }

        foreach (var id in _streams.Keys) End(id, _ended);
    }

    private void OnFrame(byte type, byte flags, int id, ReadOnlySpan<byte> payload)
    {
        switch (type)
        {
            case Data:
                // Flow control counts the whole payload, padding included; give the credit back in large steps.
                if ((_unacknowledged += payload.Length) > MaxWindow / 2)
                {
                    Send(WindowUpdate, 0, 0, BigEndian((int)_unacknowledged));
                    _unacknowledged = 0;
                }

                if (_streams.TryGetValue(id, out var reader))
                {
                    reader.OnData(Unpad(flags, payload));
                    if ((flags & EndStream) != 0) End(id, "server_ended");
                }

                break;
            case Headers when _streams.TryGetValue(id, out var sse):
                var block = Unpad(flags, payload);
                block = (flags & Priority) != 0 ? block[5..] : block;
                sse.OnStatus(Status(block));
                if ((flags & EndStream) != 0) End(id, "server_ended");

                break;
            case RstStream:
                End(id, payload.Length >= 4 ? $"rst_stream_{BinaryPrimitives.ReadUInt32BigEndian(payload)}" : "rst_stream");
                break;
            case Settings when (flags & Ack) == 0:
                Send(Settings, Ack, 0, []);
                break;
            case Ping when (flags & Ack) == 0:
                Send(Ping, Ack, 0, payload);
                break;
            case GoAway:
                _ended = "goaway";
                break;
            default:
                break; // CONTINUATION (headers we do not decode), WINDOW_UPDATE, PRIORITY, acknowledgements
        }
    }

    private void End(int id, string cause)
    {
        if (_streams.TryRemove(id, out var sse)) sse.End(cause);
    }

    /// <summary>
    /// <c>:status</c>, the first field of a response block: indexed (static entries 8–14), or a literal with name index
    /// 8 and three plain digits (what Kestrel and nginx send for other codes). 0 when it is neither.
    /// </summary>
    private static int Status(ReadOnlySpan<byte> block) =>
        block.IsEmpty ? 0
        : block[0] is >= 0x88 and <= 0x8E ? s_staticStatus[block[0] - 0x88]
        : block.Length >= 5 && (block[0] & 0x0F) == 8 && block[1] == 3 && Utf8Parser.TryParse(block[2..5], out int code, out _) ? code
        : 0;

    private void Send(byte type, byte flags, int id, ReadOnlySpan<byte> payload)
    {
        var frame = new ArrayBufferWriter<byte>(FrameHeader + payload.Length);
        WriteFrame(frame, type, flags, id, payload);
        _ = SendAsync(frame.WrittenMemory);
    }

    private async Task SendAsync(ReadOnlyMemory<byte> frame)
    {
        try
        {
            await _write.WaitAsync(_stop.Token);
            try
            {
                await _stream.WriteAsync(frame, _stop.Token);
                await _stream.FlushAsync(_stop.Token);
            }
            finally
            {
                _write.Release();
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or IOException or NotSupportedException)
        {
            // The connection is going away; the read loop ends the streams.
        }
    }

    private static ReadOnlySpan<byte> Unpad(byte flags, ReadOnlySpan<byte> payload) =>
        (flags & Padded) == 0 || payload.IsEmpty ? payload : payload.Length - 1 >= payload[0] ? payload[1..^payload[0]] : [];

    private static byte[] BigEndian(int value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(bytes, value);
        return bytes;
    }

    private static void WriteFrame(ArrayBufferWriter<byte> output, byte type, byte flags, int id, ReadOnlySpan<byte> payload)
    {
        var span = output.GetSpan(FrameHeader + payload.Length);
        span[0] = (byte)(payload.Length >> 16);
        span[1] = (byte)(payload.Length >> 8);
        span[2] = (byte)payload.Length;
        span[3] = type;
        span[4] = flags;
        BinaryPrimitives.WriteUInt32BigEndian(span[5..], (uint)id);
        payload.CopyTo(span[FrameHeader..]);
        output.Advance(FrameHeader + payload.Length);
    }

    /// <summary>HPACK "literal without indexing" with a static name index, value not Huffman-coded (RFC 7541 §6.2.2).</summary>
    private static void Literal(ArrayBufferWriter<byte> block, int nameIndex, string value)
    {
        Integer(block, 0x00, 4, nameIndex);
        var bytes = Encoding.ASCII.GetBytes(value);
        Integer(block, 0x00, 7, bytes.Length);
        block.Write(bytes);
    }

    private static void Integer(ArrayBufferWriter<byte> block, byte pattern, int prefixBits, int value)
    {
        var max = (1 << prefixBits) - 1;
        if (value < max)
        {
            block.Write([(byte)(pattern | value)]);
            return;
        }

        block.Write([(byte)(pattern | max)]);
        for (value -= max; value >= 128; value /= 128)
        {
            block.Write([(byte)((value % 128) + 128)]);
        }

        block.Write([(byte)value]);
    }
}
