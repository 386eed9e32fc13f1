using System.Security.Cryptography;

namespace Metrics.Api.Streaming;

/// <summary>Random spreads, so that clients told to reconnect at once do not all come back at once.</summary>
public static class Jitter
{
    /// <summary>A whole number of milliseconds between <paramref name="min"/> and <paramref name="max"/>, inclusive.</summary>
    public static TimeSpan Between(TimeSpan min, TimeSpan max) =>
        max <= min
            ? min
            : TimeSpan.FromMilliseconds(RandomNumberGenerator.GetInt32((int)min.TotalMilliseconds, (int)max.TotalMilliseconds + 1));

    /// <summary><paramref name="value"/> ± <paramref name="fraction"/> of it.</summary>
    public static TimeSpan Around(TimeSpan value, double fraction) =>
        value * (1 - fraction + (2 * fraction * RandomNumberGenerator.GetInt32(0, 1001) / 1000.0));
}
