using System.Net;
using System.Net.Sockets;
using Edge.Proxy.Proxy;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using Microsoft.Extensions.ServiceDiscovery;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.ServiceDiscovery;

namespace Edge.Proxy.ServiceDiscovery;

/// <summary>
/// Resolves YARP destinations written as logical names (<c>http://dashboard-web</c>, <c>http://_h2c.metrics-api</c>)
/// through Microsoft.Extensions.ServiceDiscovery, as the Microsoft.Extensions.ServiceDiscovery.Yarp package does
/// (that package is not available here). Every endpoint becomes its own destination, so replicas are load-balanced.
/// </summary>
/// <remarks>
/// Locally the AppHost sets <c>services__{name}__{endpoint}__N</c>. In Azure Container Apps there are no such
/// variables: the pass-through provider returns the name itself and the platform's DNS resolves it. A name that
/// has neither an entry nor a DNS record would only show up as 502s later, so resolution fails instead, and YARP
/// turns that into a start-up error naming the cluster.
/// </remarks>
public sealed class ServiceDiscoveryDestinationResolver(
    ServiceEndpointResolver resolver,
    IOptions<EdgeProxyOptions> options,
    ILogger<ServiceDiscoveryDestinationResolver> logger) : IDestinationResolver
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

            if (source.Endpoints.Count == 0)
            {
                throw new InvalidOperationException(
                    $"Destination '{destinationId}' ({destination.Address}) resolved to no endpoint. {ConfigurationHint(original)}");
            }

            var addresses = new List<string>(source.Endpoints.Count);
            foreach (var endpoint in source.Endpoints)
            {
                var address = ToUri(endpoint.ToString()!, original.Scheme);
                await EnsureHostResolvesAsync(destinationId, destination, original, address, cancellationToken);

                var rewrittenAddress = Rewrite(original, destination.Address, address);
                var rewrittenHealth = destination.Health is { Length: > 0 } health
                    ? Rewrite(new Uri(health), health, address)
                    : null;

                resolved[$"{destinationId}[{address.Authority}]"] = destination with
                {
                    Address = rewrittenAddress,
                    Health = rewrittenHealth,
                };
                addresses.Add(rewrittenAddress);
            }

            if (logger.IsEnabled(LogLevel.Information))
            {
                var endpoints = string.Join(", ", addresses);
                EdgeLog.DestinationsResolved(logger, destinationId, destination.Address, endpoints);
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

        // A host:port endpoint, e.g. from the pass-through provider ("metrics-api:80") in Azure Container Apps.
        // For "https+http://name" the first scheme is the preferred one.
        var scheme = originalScheme.Split('+')[0];
        return new Uri($"{scheme}://{endpoint}");
    }

    /// <summary>Keeps the configured path and takes scheme, host and port from the endpoint.</summary>
    private static string Rewrite(Uri original, string originalText, Uri endpoint)
    {
        var rewritten = new UriBuilder(original) { Scheme = endpoint.Scheme, Host = endpoint.Host, Port = endpoint.Port }.Uri.ToString();
        return original.AbsolutePath == "/" && !originalText.EndsWith('/') ? rewritten.TrimEnd('/') : rewritten;
    }

    private async Task EnsureHostResolvesAsync(
        string destinationId, DestinationConfig destination, Uri original, Uri address, CancellationToken cancellationToken)
    {
        if (address.HostNameType is not UriHostNameType.Dns)
        {
            return;
        }

        var host = address.DnsSafeHost;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.Value.DnsCheckTimeout);
        try
        {
            var found = await Dns.GetHostAddressesAsync(host, timeout.Token);
            if (found.Length > 0)
            {
                return;
            }
        }
        catch (SocketException e) when (e.SocketErrorCode is not (SocketError.HostNotFound or SocketError.NoData))
        {
            // The DNS server could not answer (e.g. TryAgain): not proof that the name is wrong.
            EdgeLog.DnsCheckInconclusive(logger, host, destinationId, e.SocketErrorCode.ToString());
            return;
        }
        catch (SocketException)
        {
            // Definitely unknown: reported below.
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            EdgeLog.DnsCheckInconclusive(logger, host, destinationId, "timed out");
            return;
        }

        // The pass-through provider hands back the service name itself when configuration has no entry.
        var (service, _) = ParseServiceName(original);
        var hint = string.Equals(host, service, StringComparison.OrdinalIgnoreCase)
            ? ConfigurationHint(original)
            : $"Check the endpoint configured for service '{service}'.";
        throw new InvalidOperationException(
            $"Destination '{destinationId}' ({destination.Address}) cannot be reached: host '{host}' does not resolve by DNS. {hint}");
    }

    /// <summary>Names the configuration entry that service discovery looked for, e.g. services__metrics-api__h2c__0.</summary>
    private static string ConfigurationHint(Uri original)
    {
        var (service, endpoint) = ParseServiceName(original);
        return $"Service '{service}' has no endpoint in configuration: set 'services:{service}:{endpoint}:0' " +
            $"(environment variable services__{service}__{endpoint}__0; the AppHost sets it through WithReference), " +
            $"or make '{service}' resolvable by DNS, as in Azure Container Apps.";
    }

    /// <summary>"http://_h2c.metrics-api" is service "metrics-api", endpoint "h2c"; "http://x" is service "x", endpoint "http".</summary>
    private static (string Service, string Endpoint) ParseServiceName(Uri original)
    {
        var host = original.Host;
        return host.StartsWith('_') && host.IndexOf('.', StringComparison.Ordinal) is var dot and > 1
            ? (host[(dot + 1)..], host[1..dot])
            : (host, original.Scheme.Split('+')[0]);
    }
}

public static class ServiceDiscoveryReverseProxyExtensions
{
    /// <summary>
    /// Resolves cluster destinations through service discovery. The endpoint providers (configuration,
    /// pass-through) come from <c>AddServiceDiscovery()</c> in ServiceDefaults.
    /// </summary>
    public static IReverseProxyBuilder AddServiceDiscoveryDestinationResolver(this IReverseProxyBuilder builder)
    {
        builder.Services.AddServiceDiscoveryCore();
        builder.Services.AddSingleton<IDestinationResolver, ServiceDiscoveryDestinationResolver>();
        return builder;
    }
}
