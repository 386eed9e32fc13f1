using System.Collections.Immutable;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AppHost.Hosting;

/// <summary>
/// Starts every project replica as its own process in dependency order, watches health, multiplexes
/// output and stops them all (SIGTERM, then kill) when the AppHost stops or any resource fails.
/// </summary>
internal sealed partial class Orchestrator(
    DistributedApplicationModel model,
    OrchestratorOptions options,
    IConfiguration configuration,
    IHostEnvironment environment,
    ResourceNotificationService notifications,
    ResourceLoggerService resourceLogs,
    ConsoleOutput console,
    IHttpClientFactory httpClientFactory,
    IHostApplicationLifetime lifetime,
    ILogger<Orchestrator> logger) : IHostedService, IDisposable
{
    public const string HealthClientName = "apphost-health";
    private const int LastLinesOnFailure = 60;

    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _failureLock = new();
    private readonly List<Task> _resourceTasks = [];
    private Dictionary<ProjectResource, IReadOnlyList<ReplicaRun>> _replicas = [];
    private DevelopmentCertificate? _certificate;
    private bool _started;
    private int _stopped;

    /// <summary>Why the application stopped on its own, if it did.</summary>
    public string? Failure { get; private set; }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var projects = model.Resources.OfType<ProjectResource>().ToList();
        var parameters = ResolveParameters();
        _replicas = projects.ToDictionary(p => p, IReadOnlyList<ReplicaRun> (p) => AllocateReplicas(p));
        if (projects.Any(p => p.Endpoints.Any(e => e.UriScheme == "https")))
        {
            _certificate = DevelopmentCertificate.Resolve();
            LogCertificate(logger, _certificate.Path is null ? "the installed ASP.NET Core development certificate" : "a self-signed certificate made for this run");
        }

        console.RegisterResources(projects.Select(p => p.Name));
        foreach (var project in projects)
        {
            notifications.Publish(project.Name, _ => Snapshot(project));
        }

        _started = true;
        // Last resort: if the AppHost process ends without stopping (an unhandled exception, a test
        // host torn down), its children must not live on as orphans.
        AppDomain.CurrentDomain.ProcessExit += KillRemainingProcesses;
        WriteTable();
        foreach (var project in projects)
        {
            var environments = _replicas[project].ToDictionary(
                r => r,
                r => AspireEnvironment.Build(r, _replicas, parameters, _certificate, configuration, environment));
            _resourceTasks.Add(Task.Run(() => RunResourceAsync(project, environments), CancellationToken.None));
        }

        _resourceTasks.Add(Task.Run(AnnounceWhenHealthyAsync, CancellationToken.None));
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (!_started || Interlocked.Exchange(ref _stopped, 1) == 1)
        {
            return;
        }

        await _stopping.CancelAsync();
        var replicas = _replicas.Values.SelectMany(r => r).Where(r => r.Process is { HasExited: false }).ToList();
        if (replicas.Count > 0)
        {
            console.WriteAppHostLine($"Stopping {replicas.Count} process(es)...");
        }

        await Task.WhenAll(replicas.Select(StopReplicaAsync));
        try
        {
            Task[] tasks;
            lock (_resourceTasks)
            {
                tasks = [.. _resourceTasks];
            }

            await Task.WhenAll(tasks).WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None);
        }
        catch (TimeoutException)
        {
        }

        _certificate?.Dispose();
        if (replicas.Count > 0)
        {
            console.WriteAppHostLine(Failure is null ? "Stopped." : "Stopped after a failure.");
        }
    }

    public void Dispose()
    {
        AppDomain.CurrentDomain.ProcessExit -= KillRemainingProcesses;
        KillRemainingProcesses(this, EventArgs.Empty);
        _stopping.Dispose();
        foreach (var replica in _replicas.Values.SelectMany(r => r))
        {
            replica.Process?.Dispose();
        }
    }

    /// <summary>Stops a resource's processes (SIGTERM, then kill) without failing the application.</summary>
    public async Task StopResourceAsync(string resourceName)
    {
        var project = FindProject(resourceName);
        var running = _replicas[project].Where(r => r.Process is { HasExited: false }).ToList();
        foreach (var replica in running)
        {
            replica.StoppedOnRequest = true;
        }

        await Task.WhenAll(running.Select(StopReplicaAsync));
        console.WriteAppHostLine($"{resourceName}: stopped on request.");
    }

    /// <summary>Starts a stopped resource again with the same ports and environment.</summary>
    public void StartResource(string resourceName)
    {
        var project = FindProject(resourceName);
        var replicas = _replicas[project];
        if (replicas.Any(r => r.Process is { HasExited: false }))
        {
            throw new InvalidOperationException($"Resource '{resourceName}' is already running.");
        }

        foreach (var replica in replicas)
        {
            replica.Process?.Dispose();
            StartProcess(replica, new Dictionary<string, string>(replica.Environment));
        }

        SetState(project, KnownResourceStates.Running, project.HealthCheck is null ? HealthStatus.Healthy : HealthStatus.Unhealthy);
        lock (_resourceTasks)
        {
            _resourceTasks.AddRange(replicas.Select(r => Task.Run(() => WatchReplicaAsync(r), CancellationToken.None)));
        }
    }

    private ProjectResource FindProject(string resourceName) =>
        _replicas.Keys.FirstOrDefault(p => p.Name == resourceName)
            ?? throw new ArgumentException($"There is no project resource named '{resourceName}'.", nameof(resourceName));

    private void KillRemainingProcesses(object? sender, EventArgs e)
    {
        foreach (var replica in _replicas.Values.SelectMany(r => r))
        {
            if (replica.Process is { } process)
            {
                ProcessControl.Kill(process);
            }
        }
    }

    public Uri GetEndpoint(string resourceName, string? endpointName)
    {
        if (!_started)
        {
            throw new InvalidOperationException("The application has not been started.");
        }

        var project = _replicas.Keys.FirstOrDefault(p => p.Name == resourceName)
            ?? throw new ArgumentException($"There is no project resource named '{resourceName}'.", nameof(resourceName));
        var name = endpointName
            ?? project.Endpoints.FirstOrDefault(e => e.Name == "http")?.Name
            ?? project.Endpoints.FirstOrDefault(e => e.Name == "https")?.Name
            ?? throw new ArgumentException($"Resource '{resourceName}' has no http or https endpoint.", nameof(endpointName));
        if (project.Endpoints.All(e => e.Name != name))
        {
            throw new ArgumentException($"Resource '{resourceName}' has no endpoint named '{name}'.", nameof(endpointName));
        }

        return _replicas[project][0].Url(name);
    }

    private Dictionary<ParameterResource, string> ResolveParameters()
    {
        var values = new Dictionary<ParameterResource, string>();
        foreach (var parameter in model.Resources.OfType<ParameterResource>())
        {
            var configured = configuration[parameter.ConfigurationKey];
            if (!string.IsNullOrEmpty(configured))
            {
                values[parameter] = configured;
            }
            else if (parameter.DefaultValue is not null)
            {
                values[parameter] = parameter.DefaultValue;
            }
            else if (parameter.Secret)
            {
                // A fresh random secret for this run; never printed.
                values[parameter] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
                LogGeneratedSecret(logger, parameter.Name);
            }
            else
            {
                throw new DistributedApplicationException(
                    $"Parameter '{parameter.Name}' has no value. Set configuration key '{parameter.ConfigurationKey}' "
                    + $"(environment variable Parameters__{parameter.Name}, user secrets or the AppHost's appsettings.json).");
            }
        }

        return values;
    }

    private List<ReplicaRun> AllocateReplicas(ProjectResource project)
    {
        foreach (var endpoint in project.Endpoints.Where(e => e.Port is not null && !options.RandomizePorts))
        {
            if (project.Replicas > 1)
            {
                throw new DistributedApplicationException(
                    $"Resource '{project.Name}' has {project.Replicas} replicas, so its endpoint '{endpoint.Name}' cannot have the fixed port {endpoint.Port}.");
            }
        }

        return [.. Enumerable.Range(0, project.Replicas).Select(index => new ReplicaRun(project, index, project.Endpoints.ToDictionary(
            e => e.Name,
            e => e.Port is { } fixedPort && !options.RandomizePorts ? fixedPort : PortAllocator.GetFreePort())))];
    }

    private async Task RunResourceAsync(ProjectResource project, Dictionary<ReplicaRun, Dictionary<string, string>> environments)
    {
        var replicas = _replicas[project];
        try
        {
            foreach (var dependency in project.WaitsFor)
            {
                SetState(project, KnownResourceStates.Waiting);
                await notifications.WaitForResourceHealthyAsync(dependency.Name, _stopping.Token);
            }

            SetState(project, KnownResourceStates.Starting);
            foreach (var replica in replicas)
            {
                StartProcess(replica, environments[replica]);
            }

            SetState(project, KnownResourceStates.Running, project.HealthCheck is null ? HealthStatus.Healthy : HealthStatus.Unhealthy);
            await Task.WhenAll(replicas.Select(r => WatchReplicaAsync(r)));
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
        catch (DistributedApplicationException dependencyFailed)
        {
            SetState(project, KnownResourceStates.FailedToStart);
            Fail($"Resource '{project.Name}' could not start: {dependencyFailed.Message}");
        }
        catch (Exception startFailed) when (startFailed is System.ComponentModel.Win32Exception or InvalidOperationException or IOException)
        {
            SetState(project, KnownResourceStates.FailedToStart);
            Fail($"Resource '{project.Name}' could not start: {startFailed.Message}");
        }
    }

    private void StartProcess(ReplicaRun replica, Dictionary<string, string> variables)
    {
        var project = replica.Project;
        var startInfo = new ProcessStartInfo(DotnetHost(), [project.Metadata.TargetPath])
        {
            WorkingDirectory = Path.GetDirectoryName(project.Metadata.ProjectPath)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        startInfo.Environment.Clear();
        foreach (var (name, value) in variables)
        {
            startInfo.Environment[name] = value;
        }

        replica.Environment = variables;
        replica.StoppedOnRequest = false;
        var process = new Process { StartInfo = startInfo, EnableRaisingEvents = true };
        process.OutputDataReceived += (_, e) => OnLine(replica, e.Data, isError: false);
        process.ErrorDataReceived += (_, e) => OnLine(replica, e.Data, isError: true);
        if (!File.Exists(project.Metadata.TargetPath))
        {
            throw new IOException($"'{project.Metadata.TargetPath}' does not exist; build the AppHost first (dotnet build AppHost).");
        }

        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        replica.Process = process;
        replica.State = KnownResourceStates.Running;
        LogStarted(logger, project.Name, replica.InstanceId, process.Id);
    }

    private async Task WatchReplicaAsync(ReplicaRun replica)
    {
        var process = replica.Process!;
        var health = replica.Project.HealthCheck is { } check ? Task.Run(() => MonitorHealthAsync(replica, check)) : Task.CompletedTask;
        await process.WaitForExitAsync(CancellationToken.None);
        replica.ExitCode = process.ExitCode;
        var expected = _stopping.IsCancellationRequested || replica.StoppedOnRequest;
        replica.State = expected ? KnownResourceStates.Finished : KnownResourceStates.Exited;
        replica.Health = null;
        Publish(replica.Project);
        await health;

        if (!expected)
        {
            // The resource log already keeps every line; the failure shows this replica's last ones.
            var lastLines = resourceLogs.GetLines(replica.Project.Name)
                .Where(l => l.InstanceId == replica.InstanceId)
                .TakeLast(LastLinesOnFailure)
                .Select(l => l.Text);
            var wasHealthy = notifications.GetSnapshot(replica.Project.Name).Health == HealthStatus.Healthy;
            Fail($"Resource '{replica.Project.Name}' (instance {replica.InstanceId}, pid {process.Id}) exited "
                + $"{(wasHealthy ? "unexpectedly" : "during start")} with code {process.ExitCode}. Its last lines:{Environment.NewLine}"
                + string.Join(Environment.NewLine, WithoutStackFrames(lastLines).Select(l => $"    {l}")));
        }
    }

    private async Task MonitorHealthAsync(ReplicaRun replica, HttpHealthCheck check)
    {
        var project = replica.Project;
        // As Aspire: https first, then http; HTTP/2-only (h2c) endpoints cannot answer an HTTP/1.1 probe.
        var endpointName = check.EndpointName
            ?? project.Endpoints.FirstOrDefault(e => e.UriScheme == "https" && e.Transport == "http")?.Name
            ?? project.Endpoints.FirstOrDefault(e => e.UriScheme == "http" && e.Transport == "http")?.Name
            ?? throw new DistributedApplicationException($"Resource '{project.Name}' has a health check but no HTTP endpoint.");
        var url = new Uri(replica.Url(endpointName), check.Path);
        using var client = httpClientFactory.CreateClient(HealthClientName);
        client.Timeout = TimeSpan.FromSeconds(5);

        while (!_stopping.IsCancellationRequested && !replica.Process!.HasExited)
        {
            HealthStatus status;
            try
            {
                using var response = await client.GetAsync(url, _stopping.Token);
                status = (int)response.StatusCode == check.StatusCode ? HealthStatus.Healthy : HealthStatus.Unhealthy;
            }
            catch (Exception probeFailed) when (probeFailed is HttpRequestException or TaskCanceledException)
            {
                status = HealthStatus.Unhealthy;
            }

            if (replica.State == KnownResourceStates.Running && replica.Health != status)
            {
                replica.Health = status;
                Publish(project);
            }

            try
            {
                await Task.Delay(status == HealthStatus.Healthy ? TimeSpan.FromSeconds(5) : TimeSpan.FromMilliseconds(200), _stopping.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task StopReplicaAsync(ReplicaRun replica)
    {
        var process = replica.Process!;
        ProcessControl.RequestStop(process);
        try
        {
            await process.WaitForExitAsync(CancellationToken.None).WaitAsync(options.ShutdownTimeout);
        }
        catch (TimeoutException)
        {
            console.WriteAppHostLine($"{replica.Project.Name}-{replica.InstanceId} did not stop within {options.ShutdownTimeout.TotalSeconds:0} s; killing it.", isError: true);
            ProcessControl.Kill(process);
            await process.WaitForExitAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
        }
    }

    private async Task AnnounceWhenHealthyAsync()
    {
        try
        {
            foreach (var project in _replicas.Keys)
            {
                await notifications.WaitForResourceHealthyAsync(project.Name, _stopping.Token);
            }

            WriteTable();
            console.WriteAppHostLine("Distributed application started. Press Ctrl+C to shut down.");
        }
        catch (Exception notStarted) when (notStarted is OperationCanceledException or DistributedApplicationException)
        {
        }
    }

    private void OnLine(ReplicaRun replica, string? line, bool isError)
    {
        if (line is null)
        {
            return;
        }

        resourceLogs.Write(new LogLine(replica.Project.Name, replica.InstanceId, isError, line));
        console.WriteResourceLine(replica.Project.Name, replica.InstanceId, line);
    }

    private void Fail(string reason)
    {
        lock (_failureLock)
        {
            if (Failure is not null || _stopping.IsCancellationRequested)
            {
                return;
            }

            Failure = reason;
        }

        console.WriteAppHostLine(reason, isError: true);
        WriteTable();
        lifetime.StopApplication();
    }

    private void SetState(ProjectResource project, string state, HealthStatus? health = null)
    {
        foreach (var replica in _replicas[project])
        {
            if (!KnownResourceStates.IsTerminal(replica.State) || state == KnownResourceStates.FailedToStart)
            {
                replica.State = state;
                replica.Health = health;
            }
        }

        Publish(project);
    }

    private void Publish(ProjectResource project)
    {
        var before = notifications.GetSnapshot(project.Name);
        var after = Snapshot(project);
        notifications.Publish(project.Name, _ => after);
        if (before.State != after.State || before.Health != after.Health)
        {
            console.WriteAppHostLine($"{project.Name}: {after.State}{(after.Health is { } health ? $" ({health})" : string.Empty)}");
            if (KnownResourceStates.IsTerminal(after.State) && !_stopping.IsCancellationRequested)
            {
                WriteTable();
            }
        }
    }

    private ResourceSnapshot Snapshot(ProjectResource project)
    {
        var replicas = _replicas[project];
        var states = replicas.Select(r => r.State).Distinct().ToList();
        var state = states.Count == 1 ? states[0] : states.FirstOrDefault(KnownResourceStates.IsTerminal) ?? KnownResourceStates.Starting;
        HealthStatus? health = replicas.All(r => r.Health == HealthStatus.Healthy) ? HealthStatus.Healthy
            : replicas.Any(r => r.Health is not null) ? HealthStatus.Unhealthy : null;
        return new ResourceSnapshot(state, health, [.. replicas.Select(r => new ReplicaSnapshot(
            r.InstanceId,
            r.Process?.Id,
            r.State,
            r.Health,
            r.ExitCode,
            project.Endpoints.ToImmutableDictionary(e => e.Name, e => r.Url(e.Name))))]);
    }

    private void WriteTable()
    {
        var rows = _replicas.Keys.Select(project =>
        {
            var snapshot = notifications.GetSnapshot(project.Name);
            var pids = string.Join(',', snapshot.Replicas.Select(r => r.ProcessId?.ToString(CultureInfo.InvariantCulture) ?? "-"));
            var urls = string.Join(' ', project.Endpoints.Select(e => $"{e.Name}={AspireEnvironment.Url(e, _replicas[project][0].Ports[e.Name])}{(project.Replicas > 1 ? $" (+{project.Replicas - 1})" : string.Empty)}"));
            return (project.Name, snapshot.State, snapshot.Health?.ToString() ?? "-", pids, urls);
        }).ToList();
        console.WriteTable(rows);
    }

    /// <summary>Stack frames push the message that says what went wrong out of the last lines; fold them.</summary>
    private static IEnumerable<string> WithoutStackFrames(IEnumerable<string> lines)
    {
        var folded = 0;
        foreach (var line in lines)
        {
            if (line.TrimStart().StartsWith("at ", StringComparison.Ordinal) || line.Contains("--- End of", StringComparison.Ordinal))
            {
                folded++;
                continue;
            }

            if (folded > 0)
            {
                yield return $"  ({folded} stack frame lines)";
                folded = 0;
            }

            yield return line;
        }

        if (folded > 0)
        {
            yield return $"  ({folded} stack frame lines)";
        }
    }

    private static string DotnetHost() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host)
            ? host
            : Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet" ? Environment.ProcessPath! : "dotnet";

    [LoggerMessage(Level = LogLevel.Information, Message = "HTTPS endpoints use {Certificate}.")]
    private static partial void LogCertificate(ILogger logger, string certificate);

    [LoggerMessage(Level = LogLevel.Information, Message = "Parameter '{Parameter}' is a secret with no configured value; a random value was generated for this run.")]
    private static partial void LogGeneratedSecret(ILogger logger, string parameter);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Started {Resource} instance {InstanceId} as process {ProcessId}.")]
    private static partial void LogStarted(ILogger logger, string resource, string instanceId, int processId);
}
