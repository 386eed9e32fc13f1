using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace Tests.Shared;

/// <summary>
/// A long-running child (a server, the AppHost, a load worker) that the tests and the load tool start and stop: its
/// stdout and stderr lines kept (all, or the last ones), a wait for the line that says it is ready
/// (<see cref="WaitListeningAsync"/> for a .NET host) or for its ports (<see cref="WaitForPortsAsync"/>), lines to its
/// stdin (<see cref="AskAsync"/>), signals, and a kill of its whole tree on dispose. Every wait fails fast when the
/// process exits, with its output. No test framework here: bench/LoadTool links this file too.
/// </summary>
internal sealed partial class ServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly int _keepLines;
    private readonly List<string> _lines = [];
    private readonly List<Uri> _listening = [];
    private readonly List<(Regex Pattern, TaskCompletionSource<Match> Seen)> _waiting = [];

    private ServerProcess(string name, Process process, int keepLines) => (Name, _process, _keepLines) = (name, process, keepLines);

    /// <summary>The <c>dotnet</c> that runs the tests (<c>DOTNET_HOST_PATH</c>), for <c>dotnet X.dll</c>.</summary>
    public static string DotnetHost => Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";

    public string Name { get; }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>Everything it wrote to stdout and stderr so far (the last lines only if it was started with a bound).</summary>
    public string Output
    {
        get
        {
            lock (_lines)
            {
                return string.Join('\n', _lines);
            }
        }
    }

    /// <summary>
    /// Starts <paramref name="start"/> with its output redirected and read line by line (and its stdin, if
    /// <paramref name="start"/> asks for it, for <see cref="WriteLineAsync"/> and <see cref="AskAsync"/>).
    /// </summary>
    /// <param name="keepLines">How many output lines are kept, the last ones: a long-running server's log need not all stay in memory.</param>
    public static ServerProcess Start(string name, ProcessStartInfo start, int keepLines = int.MaxValue)
    {
        ArgumentNullException.ThrowIfNull(start);
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.UseShellExecute = false;
        var server = new ServerProcess(name, Process.Start(start) ?? throw new InvalidOperationException($"Could not start {name}."), keepLines);
        server._process.OutputDataReceived += (_, e) => server.OnLine(e.Data);
        server._process.ErrorDataReceived += (_, e) => server.OnLine(e.Data);
        server._process.BeginOutputReadLine();
        server._process.BeginErrorReadLine();
        return server;
    }

    /// <summary>The first line, printed so far or to come, that matches <paramref name="pattern"/>.</summary>
    public Task<Match> WaitForLineAsync(Regex pattern, TimeSpan timeout) => WaitForLineAsync(pattern, timeout, command: null);

    /// <summary>Writes <paramref name="command"/> to its stdin and returns the first line printed after it that matches <paramref name="reply"/>.</summary>
    public Task<Match> AskAsync(string command, Regex reply, TimeSpan timeout) =>
        WaitForLineAsync(reply, timeout, command ?? throw new ArgumentNullException(nameof(command)));

    /// <summary>Writes a line to its stdin (started with <see cref="ProcessStartInfo.RedirectStandardInput"/>).</summary>
    public async Task WriteLineAsync(string line)
    {
        await _process.StandardInput.WriteLineAsync(line);
        await _process.StandardInput.FlushAsync();
    }

    /// <summary>
    /// A server that prints no ready line (nginx, redis-server): waits until each of <paramref name="ports"/> on
    /// 127.0.0.1 accepts a TCP connection.
    /// </summary>
    public async Task WaitForPortsAsync(TimeSpan timeout, params int[] ports)
    {
        ArgumentNullException.ThrowIfNull(ports);
        using var cancel = new CancellationTokenSource(timeout);
        foreach (var port in ports)
        {
            while (true)
            {
                try
                {
                    using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                    await socket.ConnectAsync(IPAddress.Loopback, port, cancel.Token);
                    break;
                }
                catch (Exception exception) when (exception is SocketException or OperationCanceledException)
                {
                    if (HasExited || cancel.IsCancellationRequested)
                    {
                        throw new InvalidOperationException(
                            $"{Name} {(HasExited ? $"exited with code {ExitCode}" : $"did not listen on port {port} within {timeout.TotalSeconds:F0} s")}. Output:\n{Output}");
                    }
                }

                await Task.Delay(50, CancellationToken.None);
            }
        }
    }

    /// <summary>A .NET host: waits for "Application started" and returns the addresses of its "Now listening on" lines.</summary>
    public async Task<IReadOnlyList<Uri>> WaitListeningAsync(TimeSpan timeout)
    {
        await WaitForLineAsync(ApplicationStarted(), timeout);
        lock (_lines)
        {
            return [.. _listening];
        }
    }

    /// <summary>
    /// <c>kill -SIGNAL</c>: to this process (SIGTERM as a container runtime or service manager sends it), or to its whole
    /// process group (SIGINT as Ctrl+C sends it; the process must lead a group, e.g. started through <c>setsid</c>).
    /// </summary>
    public void Signal(string signal, bool processGroup = false)
    {
        var target = (processGroup ? -Id : Id).ToString(CultureInfo.InvariantCulture);
        using var kill = Process.Start("kill", [$"-{signal}", "--", target]);
        kill.WaitForExit();
    }

    /// <summary>Whether it exited (and its output was read to the end) within <paramref name="timeout"/>.</summary>
    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        try
        {
            await _process.WaitForExitAsync().WaitAsync(timeout);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    /// <summary>Kills it and its whole tree, without waiting (<see cref="WaitForExitAsync"/>, or dispose, waits).</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Kill();
        await _process.WaitForExitAsync();
        _process.Dispose();
    }

    private async Task<Match> WaitForLineAsync(Regex pattern, TimeSpan timeout, string? command)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        var seen = new TaskCompletionSource<Match>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lines)
        {
            // A reply counts only if printed after the command.
            foreach (var line in command is null ? _lines : Enumerable.Empty<string>())
            {
                if (pattern.Match(line) is { Success: true } match)
                {
                    return match;
                }
            }

            _waiting.Add((pattern, seen));
        }

        try
        {
            if (command is not null)
            {
                await WriteLineAsync(command);
            }

            // Exited counts only once its output is read to the end: the line may be among the last.
            await Task.WhenAny(seen.Task, _process.WaitForExitAsync()).WaitAsync(timeout);
        }
        catch (Exception exception) when (exception is TimeoutException or IOException)
        {
            // Timed out, or its stdin closed (it exited): told below.
        }

        lock (_lines)
        {
            _waiting.RemoveAll(w => w.Seen == seen);
        }

        return seen.Task.IsCompleted
            ? await seen.Task
            : throw new InvalidOperationException(
                $"{Name} {(HasExited ? $"exited with code {ExitCode}" : $"printed no line matching '{pattern}' within {timeout.TotalSeconds:F0} s")}"
                + $"{(command is null ? "" : $" after '{command}'")}. Output:\n{Output}");
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_lines)
        {
            _lines.Add(line);
            if (_lines.Count > _keepLines)
            {
                _lines.RemoveAt(0);
            }

            if (ListeningOn().Match(line) is { Success: true } listening)
            {
                _listening.Add(new Uri(listening.Groups["url"].Value));
            }

            foreach (var (pattern, seen) in _waiting)
            {
                if (pattern.Match(line) is { Success: true } match)
                {
                    seen.TrySetResult(match);
                }
            }
        }
    }

    [GeneratedRegex("Application started")]
    private static partial Regex ApplicationStarted();

    [GeneratedRegex(@"Now listening on: (?<url>https?://\S+)")]
    private static partial Regex ListeningOn();
}
