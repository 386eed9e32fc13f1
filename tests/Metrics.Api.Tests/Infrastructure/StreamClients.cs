using System.Net;

namespace Metrics.Api.Tests.Infrastructure;

/// <summary>HttpClients for long streams: no timeout, HTTP/1.1 one connection per stream, or h2c multiplexed.</summary>
public static class StreamClients
{
    /// <remarks>
    /// No response draining: disposing an unfinished stream closes its connection at once, as a
    /// browser closing an EventSource does (by default HttpClient reads on for up to 2 s to reuse it).
    /// </remarks>
    /// <param name="baseAddress">The service.</param>
    /// <param name="accessToken">Sent as <c>Authorization: Bearer</c> on every request; null for none.</param>
    public static HttpClient Http1(Uri baseAddress, string? accessToken = null) => WithToken(new(new SocketsHttpHandler
    {
        MaxConnectionsPerServer = int.MaxValue,
        MaxResponseDrainSize = 0,
        ResponseDrainTimeout = TimeSpan.Zero,
    })
    {
        BaseAddress = baseAddress,
        DefaultRequestVersion = HttpVersion.Version11,
        DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        Timeout = Timeout.InfiniteTimeSpan,
    }, accessToken);

    /// <summary>HTTP/2 with prior knowledge over cleartext, as the edge talks to the service.</summary>
    public static HttpClient H2c(Uri baseAddress, string? accessToken = null) => WithToken(new(new SocketsHttpHandler { EnableMultipleHttp2Connections = true })
    {
        BaseAddress = baseAddress,
        DefaultRequestVersion = HttpVersion.Version20,
        DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        Timeout = Timeout.InfiniteTimeSpan,
    }, accessToken);

    private static HttpClient WithToken(HttpClient client, string? accessToken)
    {
        if (accessToken is not null)
        {
            client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", accessToken);
        }

        return client;
    }
}
