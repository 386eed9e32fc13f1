namespace Tests.Shared;

/// <summary>
/// Builds and starts one in-process host at a time within a test assembly; the hosts then run side by side
/// and the test classes stay parallel. WebApplicationFactory finds the app's host through the process-wide
/// "Microsoft.Extensions.Hosting" diagnostic events, and with hosts being built on other test threads at the
/// same moment a factory has, rarely, ended up with another test's host (an edge test saw only a plain
/// upstream's endpoints; another reached a port that had just closed). Every host a test assembly builds
/// goes through here, so no two builds overlap; it costs a few hundred milliseconds per test run.
/// </summary>
internal static class HostStartGate
{
    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static readonly TimeSpan ServerStartTimeout = TimeSpan.FromSeconds(60);

    public static async Task<T> StartAsync<T>(Func<Task<T>> start)
    {
        await Gate.WaitAsync();
        try
        {
            return await start();
        }
        finally
        {
            Gate.Release();
        }
    }

    /// <summary>
    /// Starts a WebApplicationFactory's server (<paramref name="startServer"/>, which blocks) through the gate, bounded:
    /// a start that hangs fails its test, not the whole run, and says how far it got (built, listening, started) with
    /// the host's last log lines.
    /// </summary>
    public static Task StartServerAsync(string host, Action startServer, Func<IEnumerable<string>> logLines) => StartAsync(async () =>
    {
        try
        {
            await Task.Run(startServer).WaitAsync(ServerStartTimeout);
        }
        catch (TimeoutException timeout)
        {
            var lastLines = string.Join('\n', logLines().TakeLast(20));
            // Where start-up is stuck: a thread blocked in a hosted service, or an await that never returned.
            var stacks = HangReport.Capture(IsStartUp);
            throw new TimeoutException(
                $"{host} did not start within {ServerStartTimeout.TotalSeconds} s. Its last log entries:\n{lastLines}\nThe test process:\n{stacks}", timeout);
        }
    });

    private static bool IsStartUp(string stateMachine) =>
        stateMachine.Contains("Start", StringComparison.Ordinal) || stateMachine.Contains("Hosting", StringComparison.Ordinal) ||
        stateMachine.Contains("Kestrel", StringComparison.Ordinal) || stateMachine.Contains("Telemetry", StringComparison.Ordinal);

    public static Task StartAsync(Func<Task> start) => StartAsync(async () =>
    {
        await start();
        return true;
    });

    public static void Start(Action start)
    {
        Gate.Wait();
        try
        {
            start();
        }
        finally
        {
            Gate.Release();
        }
    }
}
