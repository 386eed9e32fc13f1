using System.Diagnostics;
using System.Security.Cryptography;

namespace AppHost.Hosting;

/// <summary>One process of a project resource: its ports, instance id and, once started, the process.</summary>
internal sealed class ReplicaRun(ProjectResource project, int index, IReadOnlyDictionary<string, int> ports)
{
    private const string InstanceIdAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789";

    public ProjectResource Project { get; } = project;

    public int Index { get; } = index;

    /// <summary>8 random lowercase characters, like the suffix DCP gives each replica.</summary>
    public string InstanceId { get; } = RandomNumberGenerator.GetString(InstanceIdAlphabet, 8);

    public IReadOnlyDictionary<string, int> Ports { get; } = ports;

    public Process? Process { get; set; }

    /// <summary>The environment it was started with; a restart reuses it (same ports, same keys).</summary>
    public IReadOnlyDictionary<string, string> Environment { get; set; } = new Dictionary<string, string>();

    /// <summary>Stopped by a command, not crashed: its exit is not a failure.</summary>
    public bool StoppedOnRequest { get; set; }

    public string State { get; set; } = KnownResourceStates.NotStarted;

    public HealthStatus? Health { get; set; }

    public int? ExitCode { get; set; }

    public Uri Url(string endpointName)
    {
        var endpoint = Project.Endpoints.First(e => e.Name == endpointName);
        return new Uri(AspireEnvironment.Url(endpoint, Ports[endpointName]));
    }
}
