using System.Buffers;

namespace Metrics.Api.Streaming;

/// <summary>
/// The streams one fan-out has to wake, woken a batch at a time: the next batch is queued to the thread pool only
/// when every writer of the previous one has run, so it lands behind the frame writers those writes scheduled.
/// </summary>
/// <remarks>
/// Each stream's write rents a block from Kestrel's memory pool that stays rented until its connection's frame
/// writer has copied it out. Woken all at once, 10,000 writers run before any frame writer does and the pool grows
/// to a block per stream, kept for the next second's burst. Batches bound that peak to a few batches' worth. A
/// batch waits for its writers to have run, not for their clients: a writer whose flush waits on a slow client has
/// already returned to the pool.
/// </remarks>
internal sealed class FanOutWave
{
    private readonly int _batchSize;
    private StreamSubscription[] _woken;
    private int _count;
    private int _next;
    private int _pending;

    public FanOutWave(int batchSize, int expected)
    {
        _batchSize = batchSize;
        _woken = ArrayPool<StreamSubscription>.Shared.Rent(Math.Max(expected, 16));
    }

    /// <summary>Adds a stream whose reader is waiting. Only the publisher calls this, before <see cref="Start"/>.</summary>
    public void Add(StreamSubscription subscription)
    {
        if (_count == _woken.Length)
        {
            var larger = ArrayPool<StreamSubscription>.Shared.Rent(_woken.Length * 2);
            _woken.AsSpan(0, _count).CopyTo(larger);
            Release(_woken, _count);
            _woken = larger;
        }

        _woken[_count++] = subscription;
    }

    /// <summary>Wakes the first batch; the rest follow as batches complete.</summary>
    public void Start()
    {
        if (_count == 0)
        {
            Release(_woken, 0);
            return;
        }

        WakeNextBatch();
    }

    /// <summary>Called once by every woken stream after its writer has run.</summary>
    public void WriterRan()
    {
        if (Interlocked.Decrement(ref _pending) != 0)
        {
            return;
        }

        if (_next < _count)
        {
            WakeNextBatch();
        }
        else
        {
            Release(_woken, _count);
        }
    }

    private void WakeNextBatch()
    {
        var start = _next;
        var end = Math.Min(start + _batchSize, _count);
        // Both set before the first wake: that stream's writer may finish (and call WriterRan) before the loop ends.
        _next = end;
        Volatile.Write(ref _pending, end - start);
        for (var i = start; i < end; i++)
        {
            _woken[i].WakeInWave(this);
        }
    }

    private static void Release(StreamSubscription[] array, int count)
    {
        array.AsSpan(0, count).Clear();
        ArrayPool<StreamSubscription>.Shared.Return(array);
    }
}
