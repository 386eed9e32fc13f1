using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Tests.Shared;

/// <summary>
/// A real <c>redis-server</c> for one test: 127.0.0.1 on a free port, no persistence (<c>--save "" --appendonly no</c>),
/// started when <see cref="StartAsync(TimeSpan?)"/> returns (it answered PING). <see cref="StopAsync"/> and
/// <see cref="RestartAsync"/> take it down and bring it back on the same port, for outage tests. Disposing kills the
/// process this fixture started, and only that one. The binary is <c>REDIS_SERVER</c> if set, else
/// <c>/usr/bin/redis-server</c>, else <c>redis-server</c> on the PATH (Debian: <c>apt-get install redis-server</c>).
/// </summary>
internal sealed class RedisServer : IAsyncDisposable
{
    private static readonly TimeSpan DefaultStartTimeout = TimeSpan.FromSeconds(20);

    private ServerProcess? _process;

    private RedisServer(int port) => Port = port;

    public int Port { get; }

    /// <summary>For <c>ConnectionStrings:redis</c>. A short connect timeout keeps outage tests quick.</summary>
    public string ConnectionString => $"127.0.0.1:{Port.ToString(CultureInfo.InvariantCulture)},connectTimeout=2000";

    public bool IsRunning => _process is { HasExited: false };

    /// <summary>What the running redis-server printed, for failure messages.</summary>
    public string Output => _process?.Output ?? string.Empty;

    public static string ServerPath =>
        Environment.GetEnvironmentVariable("REDIS_SERVER") is { Length: > 0 } configured ? configured
        : File.Exists("/usr/bin/redis-server") ? "/usr/bin/redis-server"
        : "redis-server";

    /// <summary>A new server on a port the OS just handed out (tried again on another port if that one was taken).</summary>
    public static async Task<RedisServer> StartAsync(TimeSpan? timeout = null)
    {
        for (var attempt = 1; ; attempt++)
        {
            var server = new RedisServer(LoopbackPort.Free());
            try
            {
                await server.RunAsync(timeout ?? DefaultStartTimeout);
                return server;
            }
            catch (InvalidOperationException) when (attempt < 3)
            {
                await server.DisposeAsync();
            }
        }
    }

    /// <summary>Kills the server (as a crash would: no shutdown save, clients see the socket drop) and waits for its exit.</summary>
    public async Task StopAsync()
    {
        if (_process is { } process)
        {
            _process = null;
            await process.DisposeAsync();
        }
    }

    /// <summary>Starts it again on the same port, empty: a restarted Redis without persistence.</summary>
    public Task RestartAsync(TimeSpan? timeout = null) =>
        IsRunning ? Task.CompletedTask : RunAsync(timeout ?? DefaultStartTimeout);

    public async ValueTask DisposeAsync() => await StopAsync();

    private async Task RunAsync(TimeSpan timeout)
    {
        var start = new ProcessStartInfo(ServerPath);
        foreach (var argument in (string[])[
            "--port", Port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1",
            "--save", string.Empty, "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning",
        ])
        {
            start.ArgumentList.Add(argument);
        }

        ServerProcess process;
        try
        {
            process = ServerProcess.Start("redis-server", start);
        }
        catch (System.ComponentModel.Win32Exception exception)
        {
            throw new FileNotFoundException(
                $"{ServerPath} could not be started ({exception.Message}). Install redis-server (apt-get install redis-server) or set REDIS_SERVER.",
                exception);
        }

        _process = process;

        var deadline = Stopwatch.StartNew();
        while (!await PingsAsync())
        {
            if (process.HasExited || deadline.Elapsed > timeout)
            {
                var output = Output;
                await StopAsync();
                throw new InvalidOperationException($"redis-server did not answer PING on port {Port} within {timeout.TotalSeconds:F0} s:\n{output}");
            }

            await Task.Delay(20);
        }
    }

    private async Task<bool> PingsAsync()
    {
        try
        {
            using var client = new TcpClient();
            using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            await client.ConnectAsync(IPAddress.Loopback, Port, cancel.Token);
            var stream = client.GetStream();
            await stream.WriteAsync("PING\r\n"u8.ToArray(), cancel.Token);
            var buffer = new byte[16];
            var read = await stream.ReadAsync(buffer, cancel.Token);
            return Encoding.ASCII.GetString(buffer, 0, read).StartsWith("+PONG", StringComparison.Ordinal);
        }
        catch (Exception exception) when (exception is SocketException or IOException or OperationCanceledException)
        {
            return false;
        }
    }
}
