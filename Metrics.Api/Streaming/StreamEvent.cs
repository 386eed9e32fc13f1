using System.Buffers;
using System.Globalization;
using System.Net.ServerSentEvents;

namespace Metrics.Api.Streaming;

/// <summary>
/// One event, serialized and framed once. Every subscriber queues this same instance and writes the same
/// <see cref="Frame"/> bytes, so fan-out costs no per-subscriber serialization, formatting or allocation.
/// </summary>
public sealed class StreamEvent
{
    private static readonly SearchValues<char> s_eventTypeChars =
        SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.");

    /// <summary>Creates an event. <paramref name="utf8Data"/> is owned by the event from now on: never mutate it.</summary>
    /// <param name="id">The position in the stream, or null for events that are not replayed (heartbeats).</param>
    /// <param name="eventType">The SSE event type (a small token alphabet).</param>
    /// <param name="utf8Data">The payload.</param>
    /// <param name="timestamp">When it was published, from <see cref="TimeProvider.GetTimestamp"/>.</param>
    /// <param name="source">
    /// Who published it (a replica's instance id). A subscriber that falls behind keeps only the newest event of
    /// each source, so this also says which events supersede each other. Null: the event is never kept that way.
    /// </param>
    public StreamEvent(long? id, string eventType, byte[] utf8Data, long timestamp, string? source = null)
    {
        ValidateEventType(eventType);
        ArgumentNullException.ThrowIfNull(utf8Data);
        if (id is < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(id), id, "Event ids are non-negative.");
        }

        Id = id;
        EventType = eventType;
        Data = utf8Data;
        Timestamp = timestamp;
        Source = source;
        // The id text is formatted once here, never taken from a client.
        Frame = SseFrames.Format(new SseItem<byte[]>(utf8Data, eventType) { EventId = id?.ToString(CultureInfo.InvariantCulture) });
    }

    /// <summary>The position in the stream, or null for events that are not replayed (heartbeats).</summary>
    public long? Id { get; }

    public string EventType { get; }

    /// <summary>The payload as UTF-8 (JSON for every event this service publishes).</summary>
    public byte[] Data { get; }

    /// <summary>When the event was published, from <see cref="TimeProvider.GetTimestamp"/>.</summary>
    public long Timestamp { get; }

    /// <summary>Who published it; see the constructor.</summary>
    public string? Source { get; }

    /// <summary>The whole SSE frame, as every response writes it.</summary>
    public byte[] Frame { get; }

    /// <summary>
    /// Event types are written verbatim after <c>event:</c>, so only a small token alphabet is allowed:
    /// nothing from a client, no CR or LF, can ever reach the wire as an event type.
    /// </summary>
    public static void ValidateEventType(string eventType)
    {
        ArgumentException.ThrowIfNullOrEmpty(eventType);
        if (eventType.Length > 64 || eventType.AsSpan().ContainsAnyExcept(s_eventTypeChars))
        {
            throw new ArgumentException("Event types are 1-64 characters of [A-Za-z0-9_.-].", nameof(eventType));
        }
    }
}
