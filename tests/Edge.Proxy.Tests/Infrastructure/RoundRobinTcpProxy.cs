using System.Net;
using System.Net.Sockets;

namespace Edge.Proxy.Tests.Infrastructure;

/// <summary>
/// A layer-4 balancer as Aspire's DCP proxy is one: one address, each accepted connection piped to the next
/// backend in turn, bytes copied both ways without looking at them.
/// </summary>
internal sealed class RoundRobinTcpProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly IReadOnlyList<Uri> _backends;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private int _accepted;

    private RoundRobinTcpProxy(IReadOnlyList<Uri> backends)
    {
        _backends = backends;
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public Uri Url => new($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}");

    public static RoundRobinTcpProxy Start(params Uri[] backends) => new(backends);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        var pipes = new List<Task>();
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                var backend = _backends[_accepted++ % _backends.Count];
                pipes.Add(PipeAsync(client, backend));
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }

        await Task.WhenAll(pipes);
    }

    private async Task PipeAsync(TcpClient client, Uri backend)
    {
        using (client)
        using (var upstream = new TcpClient())
        {
            try
            {
                await upstream.ConnectAsync(backend.Host, backend.Port, _stop.Token);
                await using var clientStream = client.GetStream();
                await using var upstreamStream = upstream.GetStream();
                // Either side closing ends both directions, as a TCP proxy does.
                await Task.WhenAny(
                    clientStream.CopyToAsync(upstreamStream, _stop.Token),
                    upstreamStream.CopyToAsync(clientStream, _stop.Token));
            }
            catch (Exception e) when (e is OperationCanceledException or IOException or SocketException)
            {
            }
        }
    }
}
