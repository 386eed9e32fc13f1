using Microsoft.AspNetCore.Http.Timeouts;
using Microsoft.Extensions.Options;

namespace Edge.Proxy.Forwarding;

public static class EdgeRequestTimeoutExtensions
{
    /// <summary>
    /// Request timeouts: <c>Edge:Proxy:RequestTimeout</c> as the default for every request (none when unset), 504 with
    /// a problem body past it. Stream routes opt out (<see cref="StreamRouteConfigFilter"/>), which YARP checks at
    /// run time: use the timeouts middleware too.
    /// </summary>
    public static TBuilder AddEdgeRequestTimeouts<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddRequestTimeouts();
        builder.Services.AddOptions<RequestTimeoutOptions>()
            .Configure<IOptions<EdgeProxyOptions>>(static (timeouts, edge) =>
            {
                if (edge.Value.RequestTimeout is { } timeout)
                {
                    timeouts.DefaultPolicy = new RequestTimeoutPolicy { Timeout = timeout };
                }
            });
        return builder;
    }
}
