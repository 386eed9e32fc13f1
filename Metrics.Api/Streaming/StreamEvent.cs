using System.Buffers;
using System.Globalization;
using System.Net.ServerSentEvents;

namespace Metrics.Api.Streaming;

/// <summary>
/// One event, serialized once. Every subscriber queues this same instance and writes the same
/// UTF-8 bytes, so fan-out costs no per-subscriber serialization or allocation.
/// </summary>
public sealed class StreamEvent
{
    private static readonly SearchValues<char> s_eventTypeChars =
        SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.");

    /// <summary>Creates an event. <paramref name="utf8Data"/> is owned by the event from now on: never mutate it.</summary>
    public StreamEvent(long? id, string eventType, byte[] utf8Data, long timestamp)
    {
        EnsureValidEventType(eventType);
        ArgumentNullException.ThrowIfNull(utf8Data);
        if (id is < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(id), id, "Event ids are non-negative.");
        }

        Id = id;
        EventType = eventType;
        Data = utf8Data;
        Timestamp = timestamp;
        // The id text is formatted once here, never taken from a client.
        Item = new SseItem<byte[]>(utf8Data, eventType) { EventId = id?.ToString(CultureInfo.InvariantCulture) };
    }

    /// <summary>The position in the stream, or null for events that are not replayed (heartbeats).</summary>
    public long? Id { get; }

    public string EventType { get; }

    /// <summary>The payload as UTF-8 (JSON for every event this service publishes).</summary>
    public byte[] Data { get; }

    /// <summary>When the event was published, from <see cref="TimeProvider.GetTimestamp"/>.</summary>
    public long Timestamp { get; }

    /// <summary>The item handed to the SSE formatter: same bytes, id and type for every subscriber.</summary>
    public SseItem<byte[]> Item { get; }

    /// <summary>
    /// Event types are written verbatim after <c>event:</c>, so only a small token alphabet is allowed:
    /// nothing from a client, no CR or LF, can ever reach the wire as an event type.
    /// </summary>
    private static void EnsureValidEventType(string eventType)
    {
        ArgumentException.ThrowIfNullOrEmpty(eventType);
        if (eventType.Length > 64 || eventType.AsSpan().ContainsAnyExcept(s_eventTypeChars))
        {
            throw new ArgumentException("Event types are 1-64 characters of [A-Za-z0-9_.-].", nameof(eventType));
        }
    }
}
