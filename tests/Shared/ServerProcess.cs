using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Tests.Shared;

/// <summary>
/// A long-running child (a server, the AppHost) that the tests start and stop: its stdout and stderr lines kept, a wait
/// for the line that says it is ready (<see cref="WaitListeningAsync"/> for a .NET host), signals, and a kill of its
/// whole tree on dispose. Every wait fails fast when the process exits, with its output. No test framework here: the
/// load tool can link this file too.
/// </summary>
internal sealed partial class ServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly List<string> _lines = [];
    private readonly List<(Regex Pattern, TaskCompletionSource<Match> Seen)> _waiting = [];

    private ServerProcess(string name, Process process) => (Name, _process) = (name, process);

    /// <summary>The <c>dotnet</c> that runs the tests (<c>DOTNET_HOST_PATH</c>), for <c>dotnet X.dll</c>.</summary>
    public static string DotnetHost => Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";

    public string Name { get; }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>Everything it wrote to stdout and stderr so far.</summary>
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

    /// <summary>Starts <paramref name="start"/> with its output redirected and read line by line.</summary>
    public static ServerProcess Start(string name, ProcessStartInfo start)
    {
        ArgumentNullException.ThrowIfNull(start);
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.UseShellExecute = false;
        var server = new ServerProcess(name, Process.Start(start) ?? throw new InvalidOperationException($"Could not start {name}."));
        server._process.OutputDataReceived += (_, e) => server.OnLine(e.Data);
        server._process.ErrorDataReceived += (_, e) => server.OnLine(e.Data);
        server._process.BeginOutputReadLine();
        server._process.BeginErrorReadLine();
        return server;
    }

    /// <summary>The first line, printed so far or to come, that matches <paramref name="pattern"/>.</summary>
    public async Task<Match> WaitForLineAsync(Regex pattern, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        var seen = new TaskCompletionSource<Match>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lines)
        {
            foreach (var line in _lines)
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
            // Exited counts only once its output is read to the end: the line may be among the last.
            await Task.WhenAny(seen.Task, _process.WaitForExitAsync()).WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
        }

        lock (_lines)
        {
            _waiting.RemoveAll(w => w.Seen == seen);
        }

        return seen.Task.IsCompleted
            ? await seen.Task
            : throw new InvalidOperationException(
                $"{Name} {(HasExited ? $"exited with code {ExitCode}" : $"printed no line matching '{pattern}' within {timeout.TotalSeconds:F0} s")}. Output:\n{Output}");
    }

    /// <summary>A .NET host: waits for "Application started" and returns the addresses of its "Now listening on" lines.</summary>
    public async Task<IReadOnlyList<Uri>> WaitListeningAsync(TimeSpan timeout)
    {
        await WaitForLineAsync(ApplicationStarted(), timeout);
        lock (_lines)
        {
            return [.. _lines.Select(line => ListeningOn().Match(line)).Where(m => m.Success).Select(m => new Uri(m.Groups["url"].Value))];
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

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        await _process.WaitForExitAsync();
        _process.Dispose();
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
