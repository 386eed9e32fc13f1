using System.Net;
using System.Net.Sockets;

namespace Tests.Shared;

/// <summary>A TCP port on 127.0.0.1 that the OS just handed out and that nothing listens on now. No test framework here: bench/LoadTool links this file too.</summary>
internal static class LoopbackPort
{
    /// <summary>
    /// For a server that cannot bind port 0 and report it (redis-server, nginx, the AppHost's own endpoints), or as a
    /// closed port that refuses connections. Another process may take it before it is used.
    /// </summary>
    public static int Free()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
