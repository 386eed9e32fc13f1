using System.Globalization;
using System.Net;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Microsoft.Extensions.Configuration;

namespace AppHost.Tests.Infrastructure;

/// <summary>
/// The graph <c>dotnet run --project AppHost</c> starts, started by Aspire.Hosting.Testing with random ports (so tests
/// never collide with a running AppHost) and no Aspire dashboard, and waited for until every service is healthy.
/// </summary>
internal sealed class TestSystem : IAsyncDisposable
{
    public static readonly string[] Services = ["metrics-api", "dashboard-web", "edge-proxy"];
    public static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(3);

    private readonly IDistributedApplicationTestingBuilder _builder;

    private TestSystem(IDistributedApplicationTestingBuilder builder, DistributedApplication app)
    {
        _builder = builder;
        App = app;
    }

    public DistributedApplication App { get; }

    public static async Task<TestSystem> StartAsync(string[]? args = null, Action<IDistributedApplicationTestingBuilder>? configure = null)
    {
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>(args ?? []);
        // Disposing returns at once instead of waiting ~13 s for DCP to confirm every process gone; the tests that
        // care about leftovers wait for the processes themselves.
        builder.Configuration["DcpPublisher:WaitForResourceCleanup"] = "false";
        configure?.Invoke(builder);
        var app = await builder.BuildAsync();
        using var timeout = new CancellationTokenSource(StartTimeout);
        try
        {
            await app.StartAsync(timeout.Token);
            foreach (var service in Services)
            {
                await app.ResourceNotifications.WaitForResourceHealthyAsync(service, timeout.Token);
            }
        }
        catch
        {
            await app.DisposeAsync();
            await builder.DisposeAsync();
            throw;
        }

        return new TestSystem(builder, app);
    }

    /// <summary>
    /// An HTTP/2-only client for the edge's public HTTPS endpoint. It validates the certificate: the AppHost made the
    /// development certificate trusted for .NET in this HOME.
    /// </summary>
    public HttpClient Edge() =>
        new()
        {
            BaseAddress = App.GetEndpoint("edge-proxy", "https"),
            DefaultRequestVersion = HttpVersion.Version20,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };

    /// <summary>
    /// The running replicas of a resource, once <paramref name="count"/> of them run and each answers on its own port.
    /// DCP reports a replica running when its process starts; its proxy sends a new connection to a replica not yet
    /// listening to another one, so a test that opens connections before then finds every one on the first replica.
    /// </summary>
    public async Task<IReadOnlyList<Replica>> ReplicasAsync(string resource, int count = 1)
    {
        using var timeout = new CancellationTokenSource(StartTimeout);
        var replicas = new Dictionary<string, Replica>();
        await foreach (var update in App.ResourceNotifications.WatchAsync(timeout.Token))
        {
            if (update.Resource.Name != resource)
            {
                continue;
            }

            if (update.Snapshot.State?.Text == KnownResourceStates.Running && Replica.From(update) is { } replica)
            {
                replicas[update.ResourceId] = replica;
            }
            else
            {
                replicas.Remove(update.ResourceId);
            }

            if (replicas.Count == count)
            {
                foreach (var running in replicas.Values)
                {
                    await running.WaitUntilListeningAsync(timeout.Token);
                }

                return [.. replicas.Values];
            }
        }

        throw new TimeoutException($"{resource} never had {count} running replicas.");
    }

    public async ValueTask DisposeAsync()
    {
        await App.DisposeAsync();
        await _builder.DisposeAsync();
    }
}

/// <summary>One running process of a resource: DCP's id for it, the process DCP started, and what it was given.</summary>
internal sealed record Replica(string ResourceId, int LauncherProcessId, IReadOnlyDictionary<string, string> Environment)
{
    /// <summary>The service's own process: DCP starts projects with <c>dotnet run --no-build</c>, which starts the app.</summary>
    public int ServiceProcessId => ProcFs.Descendants(LauncherProcessId).DefaultIfEmpty(LauncherProcessId).Max();

    /// <summary>Until the replica answers HTTP on its own port (any status: listening is what counts).</summary>
    public async Task WaitUntilListeningAsync(CancellationToken cancellationToken)
    {
        if (!Environment.TryGetValue("Kestrel__Endpoints__http__Url", out var url))
        {
            return;
        }

        using var client = new HttpClient { BaseAddress = new Uri(url), Timeout = TimeSpan.FromSeconds(5) };
        while (true)
        {
            try
            {
                using var response = await client.GetAsync(new Uri("/health", UriKind.Relative), cancellationToken);
                return;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(200), cancellationToken);
            }
        }
    }

    public static Replica? From(ResourceEvent update)
    {
        var pid = update.Snapshot.Properties.FirstOrDefault(p => p.Name == "executable.pid")?.Value;
        if (pid is null || !int.TryParse(Convert.ToString(pid, CultureInfo.InvariantCulture), CultureInfo.InvariantCulture, out var processId))
        {
            return null;
        }

        var environment = update.Snapshot.EnvironmentVariables.Where(v => v.Value is not null).ToDictionary(v => v.Name, v => v.Value!);
        return new Replica(update.ResourceId, processId, environment);
    }
}
