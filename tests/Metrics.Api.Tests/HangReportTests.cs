namespace Metrics.Api.Tests;

/// <summary>The report a hung host start puts into its test's failure (tests/Shared/HangReport.cs).</summary>
public class HangReportTests(Xunit.Abstractions.ITestOutputHelper output)
{
    [Fact]
    public async Task Names_a_blocked_thread_and_an_async_method_suspended_at_an_await()
    {
        using var release = new ManualResetEventSlim();
        var neverCompletes = new TaskCompletionSource();
        var blocked = new Thread(() => BlockedInAHostedServiceStart(release)) { IsBackground = true };
        blocked.Start();
        var suspended = SuspendedInStartAsync(neverCompletes.Task);

        try
        {
            var report = HangReport.Capture(stateMachine => stateMachine.Contains(nameof(SuspendedInStartAsync), StringComparison.Ordinal));
            output.WriteLine(report);

            Assert.Contains(nameof(BlockedInAHostedServiceStart), report, StringComparison.Ordinal);
            Assert.Contains($"{nameof(SuspendedInStartAsync)}", report, StringComparison.Ordinal);
            Assert.Contains("suspended async methods (1)", report, StringComparison.Ordinal);
        }
        finally
        {
            release.Set();
            neverCompletes.SetResult();
            blocked.Join();
            await suspended;
        }
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static void BlockedInAHostedServiceStart(ManualResetEventSlim release) => release.Wait();

    private static async Task SuspendedInStartAsync(Task waitFor) => await waitFor;
}
