using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;

namespace Edge.Proxy.Hosting;

public static class EdgeServerExtensions
{
    /// <summary>
    /// Applies <see cref="EdgeServerOptions"/> to Kestrel. The options are validated at start-up, so a bad
    /// limit stops the edge before it listens.
    /// </summary>
    public static TBuilder AddEdgeServer<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddOptions<EdgeServerOptions>()
            .BindConfiguration(EdgeServerOptions.SectionName)
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<EdgeServerOptions>, EdgeServerOptionsValidator>();

        builder.Services.AddOptions<KestrelServerOptions>()
            .Configure<IOptions<EdgeServerOptions>>(static (kestrel, edge) =>
            {
                var options = edge.Value;
                kestrel.AddServerHeader = false;
                kestrel.Limits.MaxConcurrentConnections = options.MaxConcurrentConnections;
                kestrel.Limits.KeepAliveTimeout = options.KeepAliveTimeout;
                kestrel.Limits.Http2.MaxStreamsPerConnection = options.Http2MaxStreamsPerConnection;
                kestrel.Limits.Http2.KeepAlivePingDelay = options.Http2KeepAlivePingDelay;
                kestrel.Limits.Http2.KeepAlivePingTimeout = options.Http2KeepAlivePingTimeout;
            });

        return builder;
    }
}
