using System.Text;
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
                kestrel.Limits.MaxRequestLineSize = options.MaxRequestLineSize;
                kestrel.Limits.Http2.MaxRequestHeaderFieldSize = options.MaxRequestHeaderFieldSize;
                kestrel.Limits.MaxRequestHeadersTotalSize = options.MaxRequestHeadersTotalSize;
                kestrel.Limits.MaxRequestHeaderCount = options.MaxRequestHeaderCount;
                // Header bytes are read as Latin-1, which decodes every byte: Kestrel's default (ASCII, else UTF-8)
                // answers an invalid UTF-8 value over HTTP/2 by ending the whole connection (PROTOCOL_ERROR). The
                // clusters send them on as Latin-1 (HttpClient:RequestHeaderEncoding), so upstreams get the bytes as sent.
                kestrel.RequestHeaderEncodingSelector = static _ => Encoding.Latin1;
            });

        return builder;
    }
}
