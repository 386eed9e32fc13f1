namespace Edge.Proxy.Forwarding;

/// <summary>
/// Sends requests round-robin over several connection pools to one upstream address. HTTP/2 multiplexes every
/// request to an address over a single connection, so behind a layer-4 balancer (Aspire's DCP proxy in front of
/// replicas, any TCP load balancer) all streams would land on the one replica that connection reached; with
/// several pools the balancer spreads the connections, and with them the streams.
/// </summary>
internal sealed class ConnectionSpreadingHandler(IReadOnlyList<HttpMessageInvoker> pools) : HttpMessageHandler
{
    private int _next = -1;

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var pool = pools[(int)((uint)Interlocked.Increment(ref _next) % (uint)pools.Count)];
        return pool.SendAsync(request, cancellationToken);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            foreach (var pool in pools)
            {
                pool.Dispose();
            }
        }

        base.Dispose(disposing);
    }
}
