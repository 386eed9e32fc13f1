using System.ComponentModel;
using System.Diagnostics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace AppHost;

/// <summary>
/// Several Metrics.Api replicas share one event log on Redis (issue #16). Redis is added when <c>Streaming:Backplane</c>
/// is <c>Redis</c>, or is not set and more than one replica runs (<c>MetricsApi:Replicas</c>); and always when
/// publishing: the deployment runs at least two replicas (infra/). Metrics.Api gets <c>Streaming__Backplane=Redis</c> and
/// <c>ConnectionStrings__redis</c>, and starts once Redis answers PING.
/// </summary>
internal static class RedisBackplane
{
    public const string ResourceName = "redis";

    /// <summary>How long a container runtime may take to answer <c>info</c> before it counts as absent.</summary>
    public static readonly TimeSpan RuntimeProbeTimeout = TimeSpan.FromSeconds(5);

    public static IDistributedApplicationBuilder AddStreamBackplane(
        this IDistributedApplicationBuilder builder, IResourceBuilder<ProjectResource> metricsApi)
    {
        if (!builder.ExecutionContext.IsPublishMode && !IsWanted(builder.Configuration))
        {
            return builder;
        }

        var redisServer = RedisServer.Find();
        // Letters and digits: a StackExchange.Redis connection string and a redis.conf line take it as it is.
        var password = builder.AddParameter($"{ResourceName}-password", new GenerateParameterDefault { MinLength = 32, Special = false }, secret: true);
        IResourceBuilder<IResourceWithConnectionString> redis = builder.ExecutionContext.IsPublishMode
            ? builder.AddRedis(ResourceName, password: password)
            : Choose(ContainerRuntime.FindHealthy(builder.Configuration, RuntimeProbeTimeout), redisServer) switch
            {
                RedisHost.Container => builder.AddRedis(ResourceName, password: password),
                _ => builder.AddRedisServer(ResourceName, redisServer!, password),
            };

        metricsApi
            .WithEnvironment("Streaming__Backplane", "Redis")
            // The agreed contract is ConnectionStrings__redis alone: no REDIS_HOST/PORT/PASSWORD/URI beside it, so the
            // password reaches the service (and the deployment's secrets) once. Metrics.Api references nothing else.
            .WithReferenceEnvironment(ReferenceEnvironmentInjectionFlags.ConnectionString)
            .WithReference(redis)
            .WaitFor(redis);
        return builder;
    }

    /// <summary>An explicit <c>Streaming:Backplane</c> wins (<c>InMemory</c> keeps replicas apart); else more than one replica.</summary>
    public static bool IsWanted(IConfiguration configuration) =>
        configuration["Streaming:Backplane"] is { Length: > 0 } backplane
            ? string.Equals(backplane, "Redis", StringComparison.OrdinalIgnoreCase)
            : configuration.GetValue("MetricsApi:Replicas", 1) > 1;

    /// <summary>The Aspire Redis container where a container runtime answers, else Debian's redis-server, else a clear error.</summary>
    public static RedisHost Choose(string? healthyContainerRuntime, string? redisServerPath) =>
        healthyContainerRuntime is not null ? RedisHost.Container
        : redisServerPath is not null ? RedisHost.Executable
        : throw new DistributedApplicationException(
            "More than one Metrics.Api replica (MetricsApi:Replicas) or Streaming:Backplane=Redis needs Redis, and this "
            + "machine has neither a container runtime that answers (`docker info`, `podman info`; ASPIRE_CONTAINER_RUNTIME "
            + "picks one) nor redis-server on the PATH. Either install redis-server (Debian/Ubuntu: `sudo apt-get install "
            + "redis-server`), or start a container runtime, or keep the event log in memory (--MetricsApi:Replicas=1, or "
            + "--Streaming:Backplane=InMemory to keep several replicas apart).");

    /// <summary>
    /// redis-server as a local process on a port DCP picks, on loopback only, with nothing written to disk (the log is a
    /// bounded replay window). The password reaches it on stdin as a config line, so it never shows in the process list.
    /// </summary>
    private static IResourceBuilder<RedisServerResource> AddRedisServer(
        this IDistributedApplicationBuilder builder, string name, string redisServer, IResourceBuilder<ParameterResource> password)
    {
        // $0 is redis-server, $1 the port; `-` makes it read the here-document's config line from stdin; exec leaves
        // one process (redis-server itself) for DCP to watch and stop.
        const string Script = """
            exec "$0" - --port "$1" --bind 127.0.0.1 -::1 --save '' --appendonly no <<EOF
            requirepass $REDIS_PASSWORD
            EOF
            """;
        var resource = new RedisServerResource(name, password.Resource, builder.AppHostDirectory);
        string? connectionString = null;
        var healthCheckKey = $"{name}_check";
        builder.Services.AddHealthChecks().AddRedis(_ => connectionString ?? throw new InvalidOperationException(
            $"The connection string of {name} is not known yet."), name: healthCheckKey);

        return builder.AddResource(resource)
            .WithEndpoint(RedisServerResource.EndpointName, endpoint =>
            {
                endpoint.UriScheme = "tcp";
                endpoint.IsProxied = false;
            })
            .WithArgs("-c", Script, redisServer, resource.Endpoint.Property(EndpointProperty.TargetPort))
            .WithEnvironment("REDIS_PASSWORD", password)
            .OnConnectionStringAvailable(async (redis, _, cancellationToken) =>
                connectionString = await redis.ConnectionStringExpression.GetValueAsync(cancellationToken))
            .WithHealthCheck(healthCheckKey);
    }
}

internal enum RedisHost
{
    Container,
    Executable,
}

/// <summary>A local redis-server process Aspire starts (through <c>/bin/sh</c>), with the connection string Aspire's Redis container gives.</summary>
internal sealed class RedisServerResource(string name, ParameterResource password, string workingDirectory)
    : ExecutableResource(name, "/bin/sh", workingDirectory), IResourceWithConnectionString
{
    public const string EndpointName = "tcp";

    public EndpointReference Endpoint => field ??= new EndpointReference(this, EndpointName);

    public ReferenceExpression ConnectionStringExpression =>
        ReferenceExpression.Create($"{Endpoint.Property(EndpointProperty.HostAndPort)},password={password}");
}

internal static class RedisServer
{
    /// <summary>redis-server on the PATH, or null.</summary>
    public static string? Find() =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(directory => Path.Combine(directory, "redis-server"))
            .FirstOrDefault(File.Exists);
}

/// <summary>
/// Whether a container runtime answers, asked once and boundedly: a container resource waits for an absent runtime
/// forever (DCP reports it RuntimeUnhealthy and nothing that waits for it ever starts).
/// </summary>
internal static class ContainerRuntime
{
    /// <summary>The runtime Aspire would use (ASPIRE_CONTAINER_RUNTIME, else docker, else podman) if it answers <c>info</c>.</summary>
    public static string? FindHealthy(IConfiguration configuration, TimeSpan timeout)
    {
        var configured = configuration["ASPIRE_CONTAINER_RUNTIME"] ?? configuration["DcpPublisher:ContainerRuntime"];
        string[] candidates = configured is { Length: > 0 } ? [configured] : ["docker", "podman"];
        return candidates.FirstOrDefault(runtime => Answers(runtime, timeout));
    }

    /// <summary><c>{runtime} info</c> exits with 0 within <paramref name="timeout"/>; a missing command does not.</summary>
    public static bool Answers(string runtime, TimeSpan timeout)
    {
        var startInfo = new ProcessStartInfo(runtime, ["info"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        try
        {
            using var process = Process.Start(startInfo)!;
            // Drained, so a long `info` never blocks on a full pipe.
            _ = process.StandardOutput.ReadToEndAsync();
            _ = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(timeout))
            {
                process.Kill(entireProcessTree: true);
                return false;
            }

            return process.ExitCode == 0;
        }
        catch (Win32Exception)
        {
            return false;
        }
    }
}
