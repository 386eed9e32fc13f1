using System.Buffers;
using System.Buffers.Text;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace LoadTool;

/// <summary>
/// The minimal HTTP/1.1 client, for what only HTTP/1.1 can measure (nchan's EventSource over HTTP/1.1, the edge's
/// HTTP/1.1 endpoint in the hop scenario): one cleartext connection per stream, a GET, the status line, and the body (chunked
/// or not) handed to the same <see cref="SseSubscription"/> parser. A zero-byte read waits for data: an idle stream holds no buffer.
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
        await socket.SendAsync(Encoding.ASCII.GetBytes($"GET {url.PathAndQuery} HTTP/1.1\r\nHost: {url.Authority}\r\nAccept: text/event-stream\r\nCache-Control: no-cache\r\n"
            + (bearer is null ? "" : $"Authorization: Bearer {bearer}\r\n") + "\r\n"), SocketFlags.None, cancellationToken);
        var (carry, inBody, chunked, chunkLeft) = (Array.Empty<byte>(), false, false, -1L); // chunkLeft -1: a chunk-size line comes next
        while (true)
        {
            await socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None, cancellationToken);
            var buffer = ArrayPool<byte>.Shared.Rent(Math.Max(8192, carry.Length * 2));
            try
            {
                carry.CopyTo(buffer, 0);
                var read = await socket.ReceiveAsync(buffer.AsMemory(carry.Length), SocketFlags.None, cancellationToken);
                var data = buffer.AsSpan(0, carry.Length + read);
                var used = 0;
                if (read == 0)
                {
                    sse.End("server_ended");
                    return;
                }

                var end = inBody ? -1 : data.IndexOf("\r\n\r\n"u8);
                if (end >= 0)
                {
                    sse.OnStatus(data.Length > 12 && Utf8Parser.TryParse(data[9..12], out int status, out _) ? status : 0);
                    chunked = Encoding.ASCII.GetString(data[..end]).Contains("\r\nTransfer-Encoding: chunked", StringComparison.OrdinalIgnoreCase);
                    (inBody, used) = (true, end + 4);
                }

                if (inBody && !chunked) sse.OnData(data[used..]); // a body that runs until the connection closes (nchan's)
                used = inBody && !chunked ? data.Length : used;

                while (inBody && chunked && used < data.Length)
                {
                    if (chunkLeft > 0)
                    {
                        var take = (int)Math.Min(chunkLeft, data.Length - used);
                        sse.OnData(data.Slice(used, take));
                        (used, chunkLeft) = (used + take, chunkLeft - take);
                        continue;
                    }

                    // After a chunk's data comes its CRLF (chunkLeft 0), then the next size line; size 0 ends the body.
                    var line = data[used..].IndexOf("\r\n"u8);
                    if (line < 0) break;
                    var size = data.Slice(used, line);
                    size = size.IndexOf((byte)';') is >= 0 and var semicolon ? size[..semicolon] : size;
                    if (chunkLeft < 0 && (!long.TryParse(Encoding.ASCII.GetString(size), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out chunkLeft) || chunkLeft == 0)) sse.End("server_ended");
                    (used, chunkLeft) = (used + line + 2, chunkLeft == 0 ? -1 : chunkLeft);
                }

                carry = data[used..].ToArray();
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }
}
