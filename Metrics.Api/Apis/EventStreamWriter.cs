using System.Buffers;
using System.IO.Pipelines;
using Metrics.Api.Streaming;

namespace Metrics.Api.Apis;

/// <summary>
/// Writes one stream: <c>ready</c>, a <c>gap</c> if the resume point is gone, the replay, then live events as they
/// are queued — every frame as bytes straight to the response's <see cref="PipeWriter"/>, all that is waiting
/// in one flush — and the farewell when the server ends the stream.
/// </summary>
/// <remarks>
/// Ids only grow: a live event the replay already covered, or one older than what was written, is skipped, so the
/// replay-to-live handoff never repeats an event. When the stream lagged, the events it skipped are announced
/// with a <c>gap</c> before the newest ones.
/// </remarks>
internal sealed class EventStreamWriter(HttpContext context, StreamSubscription subscription)
{
    private readonly PipeWriter _body = context.Response.BodyWriter;
    private long? _lastId;
    private int _unflushed;

    public async Task WriteAsync(ControlEvents controlEvents)
    {
        Write(controlEvents.Ready);
        if (subscription.Gap is { } gap)
        {
            Write(ControlEvents.Gap(gap));
        }

        foreach (var missed in subscription.Replay)
        {
            if (subscription.IsEnded)
            {
                break;
            }

            Write(missed.Frame);
        }

        _lastId = subscription.ReplayedThrough;
        if (!await FlushAsync())
        {
            return;
        }

        var batch = new List<StreamEvent>();
        while (await subscription.WaitToReadAsync())
        {
            batch.Clear();
            var skipped = subscription.TakeQueued(batch);
            if (skipped > 0)
            {
                var next = batch.Find(e => e.Id > _lastId || (_lastId is null && e.Id is not null));
                Write(ControlEvents.Skipped(_lastId ?? 0, next?.Id, batch.LastOrDefault(e => e.Id is not null)?.Id ?? 0, skipped));
            }

            foreach (var streamEvent in batch)
            {
                if (streamEvent.Id is { } id)
                {
                    if (id <= _lastId)
                    {
                        continue;
                    }

                    _lastId = id;
                }

                Write(streamEvent.Frame);
            }

            if (!await FlushAsync())
            {
                return;
            }
        }

        if (controlEvents.Farewell(subscription.EndReason) is { } farewell)
        {
            Write(farewell);
            await FlushAsync();
        }
    }

    private void Write(ReadOnlySpan<byte> frame)
    {
        _body.Write(frame);
        _unflushed++;
    }

    /// <summary>Sends what was written; false when the client is gone.</summary>
    private async ValueTask<bool> FlushAsync()
    {
        if (_unflushed == 0)
        {
            return true;
        }

        var result = await _body.FlushAsync(context.RequestAborted);
        subscription.RecordSent(_unflushed);
        _unflushed = 0;
        return !result.IsCompleted && !result.IsCanceled;
    }
}
