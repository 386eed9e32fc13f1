using System.Buffers;
using System.Net.ServerSentEvents;

namespace Metrics.Api.Streaming;

/// <summary>
/// Turns an event into the bytes of its SSE frame (<c>event:</c>, <c>id:</c>, <c>retry:</c>, <c>data:</c>, blank line)
/// with the framework's <see cref="SseFormatter"/>, once. Responses write these bytes as they are: nothing is
/// formatted again per subscriber.
/// </summary>
public static class SseFrames
{
    public static byte[] Format(SseItem<byte[]> item)
    {
        using var buffer = new MemoryStream(item.Data.Length + 64);
        // A memory stream never waits, so the formatter finishes synchronously.
        var written = SseFormatter.WriteAsync(OneItem(item), buffer, static (i, writer) => writer.Write(i.Data), CancellationToken.None);
        if (!written.IsCompleted)
        {
            throw new InvalidOperationException("SSE formatting into memory did not complete synchronously.");
        }

        written.GetAwaiter().GetResult();
        return buffer.ToArray();
    }

#pragma warning disable CS1998 // One item, nothing to await: the formatter only takes an async sequence.
    private static async IAsyncEnumerable<SseItem<byte[]>> OneItem(SseItem<byte[]> item)
#pragma warning restore CS1998
    {
        yield return item;
    }
}
