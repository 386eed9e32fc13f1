using Metrics.Api.Streaming;
using Microsoft.Extensions.Time.Testing;

namespace Metrics.Api.Tests;

public class ReplayBufferTests
{
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public void Resuming_inside_the_buffer_returns_exactly_the_missed_events()
    {
        var buffer = Filled(capacity: 10, ids: 101..111);

        var (events, gap) = buffer.ReadAfter(105);

        Assert.Null(gap);
        Assert.Equal([106L, 107, 108, 109, 110], events.Select(e => e.Id!.Value));
    }

    [Fact]
    public void Resuming_at_the_latest_id_returns_nothing_and_no_gap()
    {
        var buffer = Filled(capacity: 10, ids: 101..111);

        var (events, gap) = buffer.ReadAfter(110);

        Assert.Empty(events);
        Assert.Null(gap);
    }

    [Fact]
    public void Resuming_right_before_the_oldest_retained_event_is_not_a_gap()
    {
        var buffer = Filled(capacity: 3, ids: 101..111);

        var (events, gap) = buffer.ReadAfter(107);

        Assert.Null(gap);
        Assert.Equal([108L, 109, 110], events.Select(e => e.Id!.Value));
    }

    [Fact]
    public void Resuming_before_the_count_bound_reports_a_gap_then_what_is_left()
    {
        var buffer = Filled(capacity: 3, ids: 101..111);

        var (events, gap) = buffer.ReadAfter(106);

        Assert.Equal(new ResumeGap(106, 108, 110), gap);
        Assert.Equal([108L, 109, 110], events.Select(e => e.Id!.Value));
    }

    [Fact]
    public void Events_older_than_the_age_bound_are_gone()
    {
        var buffer = new ReplayBuffer(100, TimeSpan.FromSeconds(10), _time, floor: 0);
        buffer.Append(Event(1));
        _time.Advance(TimeSpan.FromSeconds(8));
        buffer.Append(Event(2));
        _time.Advance(TimeSpan.FromSeconds(3));

        var (events, gap) = buffer.ReadAfter(0);

        Assert.Equal(new ResumeGap(0, 2, 2), gap);
        Assert.Equal([2L], events.Select(e => e.Id!.Value));
    }

    [Fact]
    public void An_id_this_stream_never_issued_is_a_gap()
    {
        var buffer = Filled(capacity: 10, ids: 101..111);

        var (_, gap) = buffer.ReadAfter(5_000);

        Assert.Equal(new ResumeGap(5_000, 101, 110), gap);
    }

    [Fact]
    public void With_replay_off_any_old_id_is_a_gap()
    {
        var buffer = new ReplayBuffer(0, TimeSpan.FromMinutes(1), _time, floor: 0);
        buffer.Append(Event(1));

        var (events, gap) = buffer.ReadAfter(0);

        Assert.Empty(events);
        Assert.Equal(new ResumeGap(0, null, 1), gap);
    }

    [Fact]
    public void Ids_need_not_be_contiguous_only_the_floor_says_what_was_lost()
    {
        var buffer = new ReplayBuffer(3, TimeSpan.FromMinutes(5), _time, floor: 1000);
        foreach (var id in new long[] { 1003, 1010, 1011, 2000, 2500 })
        {
            buffer.Append(Event(id));
        }

        // Held: 1011, 2000, 2500; 1010 was evicted, so the floor is 1010.
        var (events, gap) = buffer.ReadAfter(1010);
        Assert.Null(gap);
        Assert.Equal([1011L, 2000, 2500], events.Select(e => e.Id!.Value));

        (events, gap) = buffer.ReadAfter(2000);
        Assert.Null(gap);
        Assert.Equal([2500L], events.Select(e => e.Id!.Value));

        (events, gap) = buffer.ReadAfter(1003);
        Assert.Equal(new ResumeGap(1003, 1011, 2500), gap);
        Assert.Equal(3, events.Count);

        Assert.Throws<ArgumentOutOfRangeException>(() => buffer.Append(Event(2500)));
    }

    private ReplayBuffer Filled(int capacity, Range ids)
    {
        var buffer = new ReplayBuffer(capacity, TimeSpan.FromMinutes(5), _time, floor: ids.Start.Value - 1);
        for (var id = ids.Start.Value; id < ids.End.Value; id++)
        {
            buffer.Append(Event(id));
        }

        return buffer;
    }

    private StreamEvent Event(long id) => new(id, "metrics", [], _time.GetTimestamp());
}
