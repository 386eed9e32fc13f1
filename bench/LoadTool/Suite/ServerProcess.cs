using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace LoadTool.Suite;

/// <summary>
/// A server the suite started (a .NET service, nginx): its output is kept (last lines, for error messages),
/// "Now listening on" lines are collected, and disposing it kills it and its descendants.
/// </summary>
public sealed class ServerProcess : IAsyncDisposable
{
    private const string Listening = "Now listening on: ";
    private readonly Queue<string> _tail = new();
    private readonly List<Uri> _listening = [];
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly string? _startedMarker;

    private ServerProcess(string name, Process process, string? startedMarker)
    {
        Name = name;
        Process = process;
        _startedMarker = startedMarker;
    }

    public string Name { get; }

    public Process Process { get; }

    public int Pid => Process.Id;

    /// <summary>The HTTP/2-only endpoint, once known (Metrics.Api).</summary>
    public Uri? H2cUrl { get; set; }

    public IReadOnlyList<Uri> ListeningOn
    {
        get
        {
            lock (_listening)
            {
                return [.. _listening];
            }
        }
    }

    public static ServerProcess Start(
        string name,
        string fileName,
        IEnumerable<string> arguments,
        IReadOnlyDictionary<string, string?> environment,
        string workingDirectory,
        ProcessRegistry registry,
        string? startedMarker = "Application started")
    {
        var info = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        // Nothing of the suite's own OpenTelemetry or ASP.NET settings leaks into a server.
        foreach (var key in info.Environment.Keys.Where(k => k.StartsWith("OTEL_", StringComparison.Ordinal) || k.StartsWith("ASPNETCORE_", StringComparison.Ordinal) || k.StartsWith("DOTNET_STARTUP", StringComparison.Ordinal)).ToList())
        {
            info.Environment.Remove(key);
        }

        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value;
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {name}.");
        registry.Track(process);
        var server = new ServerProcess(name, process, startedMarker);
        process.OutputDataReceived += (_, e) => server.OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => server.OnLine(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (startedMarker is null)
        {
            server._started.TrySetResult();
        }

        return server;
    }

    /// <summary>Waits for the started marker (e.g. "Application started"), failing fast if the process exits.</summary>
    public async Task WaitStartedAsync(TimeSpan timeout)
    {
        var exited = Process.WaitForExitAsync();
        var finished = await Task.WhenAny(_started.Task, exited, Task.Delay(timeout));
        if (finished != _started.Task)
        {
            throw new InvalidOperationException(
                $"{Name} {(Process.HasExited ? $"exited with code {Process.ExitCode}" : $"did not start within {timeout.TotalSeconds} s")}. Last output:\n{Tail()}");
        }
    }

    /// <summary>Waits until a TCP connect to <paramref name="port"/> on 127.0.0.1 succeeds.</summary>
    public async Task WaitForPortAsync(int port, TimeSpan timeout)
    {
        var stopwatch = Stopwatch.StartNew();
        while (true)
        {
            if (Process.HasExited)
            {
                throw new InvalidOperationException($"{Name} exited with code {Process.ExitCode}. Last output:\n{Tail()}");
            }

            try
            {
                using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                await socket.ConnectAsync(IPAddress.Loopback, port);
                return;
            }
            catch (SocketException) when (stopwatch.Elapsed < timeout)
            {
                await Task.Delay(50);
            }
        }
    }

    public string Tail()
    {
        lock (_tail)
        {
            return string.Join('\n', _tail);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await ProcessRegistry.StopAsync(Process, TimeSpan.FromSeconds(15));
        Process.Dispose();
    }

    /// <summary>A port the OS says is free now (for servers that cannot report an OS-chosen port, like nginx).</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_tail)
        {
            _tail.Enqueue(line);
            while (_tail.Count > 60)
            {
                _tail.Dequeue();
            }
        }

        var at = line.IndexOf(Listening, StringComparison.Ordinal);
        if (at >= 0)
        {
            lock (_listening)
            {
                _listening.Add(new Uri(line[(at + Listening.Length)..].Trim()));
            }
        }
        else if (_startedMarker is not null && line.Contains(_startedMarker, StringComparison.Ordinal))
        {
            _started.TrySetResult();
        }
    }
}
