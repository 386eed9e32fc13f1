using System.Globalization;
using StackExchange.Redis;

namespace Metrics.Api.Backplane;

/// <summary>
/// Redis stream entry ids (<c>milliseconds-sequence</c>) as the stream's decimal event ids: milliseconds × 1000 +
/// sequence. Order is kept, the ids stay below 2^53 (exact as JavaScript numbers), and a client's
/// <c>Last-Event-ID</c> maps back to the entry. Holds while fewer than 1,000 events are appended in one
/// millisecond, which one Redis cannot do (its appends peak in the hundreds per millisecond).
/// </summary>
public static class RedisEventIds
{
    private const long SequencesPerMillisecond = 1000;

    public static long ToEventId(RedisValue entryId)
    {
        var text = entryId.ToString();
        var dash = text.IndexOf('-', StringComparison.Ordinal);
        if (dash <= 0
            || !long.TryParse(text.AsSpan(0, dash), NumberStyles.None, CultureInfo.InvariantCulture, out var milliseconds)
            || !long.TryParse(text.AsSpan(dash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var sequence))
        {
            throw new FormatException($"'{text}' is not a Redis stream entry id.");
        }

        if (sequence >= SequencesPerMillisecond)
        {
            throw new OverflowException($"Entry {text}: more than {SequencesPerMillisecond} appends in one millisecond.");
        }

        return checked((milliseconds * SequencesPerMillisecond) + sequence);
    }

    public static string ToEntryId(long eventId) => string.Create(
        CultureInfo.InvariantCulture,
        $"{eventId / SequencesPerMillisecond}-{eventId % SequencesPerMillisecond}");

    /// <summary>When the entry was appended (Redis server time).</summary>
    public static DateTimeOffset AppendedAt(long eventId) => DateTimeOffset.FromUnixTimeMilliseconds(eventId / SequencesPerMillisecond);
}
