using Microsoft.Extensions.Primitives;
using Microsoft.Extensions.ServiceDiscovery;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.ServiceDiscovery;

namespace Edge.Proxy.ServiceDiscovery;

/// <summary>
/// Resolves YARP destinations written as logical names (<c>http://metrics-api</c>,
/// <c>http://_h2c.metrics-api</c>) through Microsoft.Extensions.ServiceDiscovery, as the
/// Microsoft.Extensions.ServiceDiscovery.Yarp package does (that package is not available here).
/// Every endpoint becomes its own destination, so replicas are load-balanced.
/// </summary>
public sealed class ServiceDiscoveryDestinationResolver(ServiceEndpointResolver resolver) : IDestinationResolver
{
    public async ValueTask<ResolvedDestinationCollection> ResolveDestinationsAsync(
        IReadOnlyDictionary<string, DestinationConfig> destinations, CancellationToken cancellationToken)
    {
        var resolved = new Dictionary<string, DestinationConfig>(StringComparer.OrdinalIgnoreCase);
        var changeTokens = new List<IChangeToken>();

        foreach (var (destinationId, destination) in destinations)
        {
            var original = new Uri(destination.Address);
            var serviceName = original.GetLeftPart(UriPartial.Authority);
            var source = await resolver.GetEndpointsAsync(serviceName, cancellationToken);
            changeTokens.Add(source.ChangeToken);

            foreach (var endpoint in source.Endpoints)
            {
                var address = ToUri(endpoint.ToString()!, original.Scheme);
                var rewritten = new UriBuilder(original) { Scheme = address.Scheme, Host = address.Host, Port = address.Port }.Uri;
                var rewrittenAddress = rewritten.ToString();
                if (original.AbsolutePath == "/" && !destination.Address.EndsWith('/'))
                {
                    rewrittenAddress = rewrittenAddress.TrimEnd('/');
                }

                resolved[$"{destinationId}[{address.Authority}]"] = destination with { Address = rewrittenAddress };
            }
        }

        return new ResolvedDestinationCollection(resolved, new CompositeChangeToken(changeTokens));
    }

    private static Uri ToUri(string endpoint, string originalScheme)
    {
        if (endpoint.Contains("://", StringComparison.Ordinal))
        {
            return new Uri(endpoint);
        }

        // A DNS or host:port endpoint (the pass-through provider in Azure Container Apps).
        var scheme = originalScheme.Split('+')[0];
        return new Uri($"{scheme}://{endpoint}");
    }
}

public static class ServiceDiscoveryReverseProxyExtensions
{
    public static IReverseProxyBuilder AddServiceDiscoveryDestinationResolver(this IReverseProxyBuilder builder)
    {
        builder.Services.AddServiceDiscoveryCore();
        builder.Services.AddSingleton<IDestinationResolver, ServiceDiscoveryDestinationResolver>();
        return builder;
    }
}
