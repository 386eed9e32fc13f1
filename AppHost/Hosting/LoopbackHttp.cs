using System.Net;
using System.Net.Security;
using System.Net.Sockets;

namespace AppHost.Hosting;

/// <summary>Helpers for talking to the resources on this machine.</summary>
public static class LoopbackHttp
{
    /// <summary>
    /// A handler that accepts the edge's development certificate (self-signed, possibly untrusted)
    /// but only for loopback hosts; anything else gets normal validation.
    /// </summary>
    public static SocketsHttpHandler CreateHandler() => new()
    {
        PooledConnectionLifetime = TimeSpan.FromMinutes(2),
        SslOptions = new SslClientAuthenticationOptions
        {
            RemoteCertificateValidationCallback = (sender, certificate, chain, errors) =>
                errors == SslPolicyErrors.None || (sender is SslStream { TargetHostName: var host } && IsLoopback(host)),
        },
    };

    public static bool IsLoopback(string? host) =>
        string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase)
        || (IPAddress.TryParse(host?.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address));
}

/// <summary>Free loopback ports, never handing out the same one twice in this process.</summary>
internal static class PortAllocator
{
    private static readonly HashSet<int> Handed = [];
    private static readonly Lock HandedLock = new();

    public static int GetFreePort()
    {
        for (var attempt = 0; attempt < 50; attempt++)
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            listener.Stop();
            lock (HandedLock)
            {
                if (Handed.Add(port))
                {
                    return port;
                }
            }
        }

        throw new DistributedApplicationException("Could not find a free loopback port.");
    }
}
