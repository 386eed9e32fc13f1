using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Runtime.CompilerServices;
using System.Threading.Channels;

namespace AppHost.Hosting;

public static class KnownResourceStates
{
    public const string NotStarted = "NotStarted";
    public const string Waiting = "Waiting";
    public const string Starting = "Starting";
    public const string Running = "Running";
    public const string Stopping = "Stopping";
    public const string Exited = "Exited";
    public const string FailedToStart = "FailedToStart";
    public const string Finished = "Finished";

    public static bool IsTerminal(string state) => state is Exited or FailedToStart or Finished;
}

public enum HealthStatus
{
    Unhealthy,
    Healthy,
}

public sealed record ReplicaSnapshot(string InstanceId, int? ProcessId, string State, HealthStatus? Health, int? ExitCode, ImmutableDictionary<string, Uri> Endpoints);

public sealed record ResourceSnapshot(string State, HealthStatus? Health, ImmutableArray<ReplicaSnapshot> Replicas)
{
    public static ResourceSnapshot Initial { get; } = new(KnownResourceStates.NotStarted, null, []);
}

public sealed record ResourceEvent(string ResourceName, ResourceSnapshot Snapshot);

/// <summary>Resource states as they change, shaped like Aspire's ResourceNotificationService.</summary>
public sealed class ResourceNotificationService
{
    private readonly ConcurrentDictionary<string, ResourceSnapshot> _snapshots = new(StringComparer.Ordinal);
    private readonly Lock _watchersLock = new();
    private ImmutableList<Channel<ResourceEvent>> _watchers = [];

    public ResourceSnapshot GetSnapshot(string resourceName) => _snapshots.GetValueOrDefault(resourceName, ResourceSnapshot.Initial);

    public IReadOnlyDictionary<string, ResourceSnapshot> Snapshots => _snapshots;

    /// <summary>Waits for a state (default Running). Throws if the resource ends in another terminal state first.</summary>
    public Task<ResourceEvent> WaitForResourceAsync(string resourceName, string? targetState = null, CancellationToken cancellationToken = default)
    {
        var wanted = targetState ?? KnownResourceStates.Running;
        return WaitForResourceAsync(resourceName, e =>
        {
            if (e.Snapshot.State == wanted)
            {
                return true;
            }

            ThrowIfUnavailable(e);
            return false;
        }, cancellationToken);
    }

    /// <summary>Waits until every replica of the resource passes its health check (or is running, when it has none).</summary>
    public Task<ResourceEvent> WaitForResourceHealthyAsync(string resourceName, CancellationToken cancellationToken = default) =>
        WaitForResourceAsync(resourceName, e =>
        {
            if (e.Snapshot.State == KnownResourceStates.Running && e.Snapshot.Health == HealthStatus.Healthy)
            {
                return true;
            }

            ThrowIfUnavailable(e);
            return false;
        }, cancellationToken);

    public async Task<ResourceEvent> WaitForResourceAsync(string resourceName, Func<ResourceEvent, bool> predicate, CancellationToken cancellationToken = default)
    {
        await foreach (var resourceEvent in WatchAsync(cancellationToken))
        {
            if (resourceEvent.ResourceName == resourceName && predicate(resourceEvent))
            {
                return resourceEvent;
            }
        }

        throw new OperationCanceledException(cancellationToken);
    }

    /// <summary>The current state of every resource, then every change.</summary>
    public async IAsyncEnumerable<ResourceEvent> WatchAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var channel = Channel.CreateUnbounded<ResourceEvent>(new UnboundedChannelOptions { SingleReader = true });
        lock (_watchersLock)
        {
            foreach (var (name, snapshot) in _snapshots)
            {
                channel.Writer.TryWrite(new ResourceEvent(name, snapshot));
            }

            _watchers = _watchers.Add(channel);
        }

        try
        {
            await foreach (var resourceEvent in channel.Reader.ReadAllAsync(cancellationToken))
            {
                yield return resourceEvent;
            }
        }
        finally
        {
            lock (_watchersLock)
            {
                _watchers = _watchers.Remove(channel);
            }
        }
    }

    internal void Publish(string resourceName, Func<ResourceSnapshot, ResourceSnapshot> update)
    {
        lock (_watchersLock)
        {
            var snapshot = update(GetSnapshot(resourceName));
            _snapshots[resourceName] = snapshot;
            foreach (var watcher in _watchers)
            {
                watcher.Writer.TryWrite(new ResourceEvent(resourceName, snapshot));
            }
        }
    }

    private static void ThrowIfUnavailable(ResourceEvent e)
    {
        if (KnownResourceStates.IsTerminal(e.Snapshot.State))
        {
            throw new DistributedApplicationException(
                $"Resource '{e.ResourceName}' is {e.Snapshot.State} and will not become available.");
        }
    }
}
