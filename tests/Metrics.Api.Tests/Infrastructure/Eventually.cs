using System.Diagnostics;

namespace Metrics.Api.Tests.Infrastructure;

/// <summary>Waits for a condition with a bound instead of sleeping a fixed time.</summary>
public static class Eventually
{
    public static async Task<TimeSpan> TrueAsync(Func<bool> condition, TimeSpan timeout, string because)
    {
        var stopwatch = Stopwatch.StartNew();
        while (!condition())
        {
            if (stopwatch.Elapsed > timeout)
            {
                Assert.Fail($"Not true within {timeout.TotalSeconds:F1} s: {because}");
            }

            await Task.Delay(10);
        }

        return stopwatch.Elapsed;
    }
}
