using System.Buffers;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace LoadTool;

/// <summary>
/// The minimal HTTP/1.1 client, for what only HTTP/1.1 can measure (nchan's EventSource over HTTP/1.1, the edge's
/// HTTP/1.1 endpoint in the hop scenario): one cleartext connection per stream, a GET, the status line, and a body
/// read as is or in chunks, handed to the same <see cref="SseSubscription"/> parser. It waits for data with a zero-byte
/// read, so an idle stream holds no buffer.
/// </summary>
public static class H1Client
{
    // Linux IP_BIND_ADDRESS_NO_PORT (IPPROTO_IP = 0): connect() picks the port for the whole 4-tuple instead of
    // bind() reserving one per source address, so each source address has the full ephemeral range per server.
    private const int IpBindAddressNoPort = 24;

    public static async Task RunAsync(SseSubscription sse, Uri url, string? bearer, IPAddress? source, CancellationToken cancellationToken)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        sse.CloseTransport = socket.Dispose;
        if (source is not null)
        {
            socket.SetRawSocketOption(0, IpBindAddressNoPort, BitConverter.GetBytes(1));
            socket.Bind(new IPEndPoint(source, 0));
        }

        await socket.ConnectAsync(new DnsEndPoint(url.Host, url.Port), cancellationToken);
        var request = $"GET {url.PathAndQuery} HTTP/1.1\r\nHost: {url.Authority}\r\nAccept: text/event-stream\r\nCache-Control: no-cache\r\n"
            + (bearer is null ? "" : $"Authorization: Bearer {bearer}\r\n") + "\r\n";
        await socket.SendAsync(Encoding.ASCII.GetBytes(request), SocketFlags.None, cancellationToken);

        var body = new Body();
        byte[] carry = [];
        while (true)
        {
            await socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None, cancellationToken);
            var buffer = ArrayPool<byte>.Shared.Rent(Math.Max(8192, carry.Length * 2));
            try
            {
                carry.CopyTo(buffer, 0);
                var read = await socket.ReceiveAsync(buffer.AsMemory(carry.Length), SocketFlags.None, cancellationToken);
                if (read == 0)
                {
                    sse.End("server_ended");
                    return;
                }

                var data = buffer.AsSpan(0, carry.Length + read);
                var consumed = body.Feed(sse, data);
                if (consumed < 0)
                {
                    sse.End(body.Status is 0 or 200 ? "server_ended" : null);
                    return;
                }

                carry = data[consumed..].ToArray();
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

    /// <summary>Response head, then the body as is or in chunks. <see cref="Feed"/> returns the bytes used, or -1 at the end of the body.</summary>
    private sealed class Body
    {
        private bool _chunked;
        private bool _inBody;
        private long _chunkLeft = -1; // -1: a chunk-size line comes next

        public int Status { get; private set; }

        public int Feed(SseSubscription sse, ReadOnlySpan<byte> data)
        {
            var used = 0;
            if (!_inBody)
            {
                var end = data.IndexOf("\r\n\r\n"u8);
                if (end < 0) return data.Length > 64 * 1024 ? -1 : 0;
                var head = Encoding.ASCII.GetString(data[..end]);
                Status = head.Length > 12 && int.TryParse(head.AsSpan(9, 3), CultureInfo.InvariantCulture, out var status) ? status : 0;
                _chunked = head.Contains("\r\nTransfer-Encoding: chunked", StringComparison.OrdinalIgnoreCase);
                _inBody = true;
                used = end + 4;
                sse.OnStatus(Status);
                if (Status != 200) return -1;
            }

            if (!_chunked)
            {
                sse.OnData(data[used..]);
                return data.Length;
            }

            while (used < data.Length)
            {
                if (_chunkLeft > 0)
                {
                    var take = (int)Math.Min(_chunkLeft, data.Length - used);
                    sse.OnData(data.Slice(used, take));
                    (used, _chunkLeft) = (used + take, _chunkLeft - take);
                    continue;
                }

                // After a chunk's data comes its CRLF, then the next size line.
                var line = data[used..].IndexOf("\r\n"u8);
                if (line < 0) return used;
                if (_chunkLeft == 0)
                {
                    (used, _chunkLeft) = (used + line + 2, -1);
                    continue;
                }

                var size = data.Slice(used, line);
                var semicolon = size.IndexOf((byte)';');
                if (!long.TryParse(Encoding.ASCII.GetString(semicolon < 0 ? size : size[..semicolon]), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out _chunkLeft) || _chunkLeft == 0)
                {
                    return -1;
                }

                used += line + 2;
            }

            return used;
        }
    }
}
