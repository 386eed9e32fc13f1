using System.Text;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;

namespace Metrics.Api.Hosting;

public static class ServerLimitsExtensions
{
    /// <summary>Binds <see cref="ServerLimitsOptions"/>, validates them at start-up and applies them to Kestrel and the host.</summary>
    public static TBuilder AddServerLimits<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddOptions<ServerLimitsOptions>()
            .BindConfiguration(ServerLimitsOptions.SectionName)
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<ServerLimitsOptions>, ServerLimitsOptionsValidator>();

        builder.Services.AddOptions<KestrelServerOptions>()
            .Configure<IOptions<ServerLimitsOptions>>((kestrel, limits) =>
            {
                var options = limits.Value;
                // The edge strips it anyway; a service that names its server tells an attacker where to look.
                kestrel.AddServerHeader = false;
                // Header bytes are read as Latin-1, which decodes every byte. Kestrel's default (ASCII, else UTF-8) answers
                // a value that is not valid UTF-8 over HTTP/2 by ending the whole connection (PROTOCOL_ERROR), and the
                // edge multiplexes every user's stream over a few such connections. Nothing here reads a header as text
                // beyond ASCII: a non-ASCII Last-Event-ID or token is refused (400/401) either way.
                kestrel.RequestHeaderEncodingSelector = static _ => Encoding.Latin1;
                kestrel.Limits.MaxConcurrentConnections = options.MaxConcurrentConnections;
                kestrel.Limits.Http2.MaxStreamsPerConnection = options.Http2MaxStreamsPerConnection;
                kestrel.Limits.Http2.KeepAlivePingDelay = options.Http2KeepAlivePingDelay;
                kestrel.Limits.Http2.KeepAlivePingTimeout = options.Http2KeepAlivePingTimeout;
                // Header and request-line caps bound what a token (header or query) can cost before auth runs.
                kestrel.Limits.MaxRequestLineSize = options.MaxRequestLineSize;
                kestrel.Limits.Http2.MaxRequestHeaderFieldSize = options.Http2MaxRequestHeaderFieldSize;
                kestrel.Limits.MaxRequestHeadersTotalSize = options.MaxRequestHeadersTotalSize;
                kestrel.Limits.MaxRequestHeaderCount = options.MaxRequestHeaderCount;
            });
        builder.Services.AddOptions<HostOptions>()
            .Configure<IOptions<ServerLimitsOptions>>((host, limits) => host.ShutdownTimeout = limits.Value.ShutdownTimeout);
        return builder;
    }
}
