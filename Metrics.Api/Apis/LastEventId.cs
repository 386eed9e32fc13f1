using System.Globalization;

namespace Metrics.Api.Apis;

/// <summary>Parses the resume point a client sends; only ids this service could have issued pass.</summary>
public static class LastEventId
{
    /// <summary>Our ids are non-negative 64-bit integers: at most 19 decimal digits.</summary>
    public const int MaxLength = 19;

    /// <summary>
    /// Null or empty means "no resume point". Anything else must be 1-19 ASCII digits that fit a
    /// 64-bit integer; signs, spaces, separators and other text are rejected, never echoed.
    /// </summary>
    public static bool TryParse(string? value, out long? id)
    {
        id = null;
        if (string.IsNullOrEmpty(value))
        {
            return true;
        }

        if (value.Length > MaxLength || !long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed))
        {
            return false;
        }

        id = parsed;
        return true;
    }
}
