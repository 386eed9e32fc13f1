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

        var (events, gap) = buffer.ReadAfter(105, latestId: 110);

        Assert.Null(gap);
        Assert.Equal([106L, 107, 108, 109, 110], events.Select(e => e.Id!.Value));
    }

    [Fact]
    public void Resuming_at_the_latest_id_returns_nothing_and_no_gap()
    {
        var buffer = Filled(capacity: 10, ids: 101..111);

        var (events, gap) = buffer.ReadAfter(110, latestId: 110);

        Assert.Empty(events);
        Assert.Null(gap);
    }

    [Fact]
    public void Resuming_right_before_the_oldest_retained_event_is_not_a_gap()
    {
        var buffer = Filled(capacity: 3, ids: 101..111);

        var (events, gap) = buffer.ReadAfter(107, latestId: 110);

        Assert.Null(gap);
        Assert.Equal([108L, 109, 110], events.Select(e => e.Id!.Value));
    }

    [Fact]
    public void Resuming_before_the_count_bound_reports_a_gap_then_what_is_left()
    {
        var buffer = Filled(capacity: 3, ids: 101..111);

        var (events, gap) = buffer.ReadAfter(106, latestId: 110);

        Assert.Equal(new ResumeGap(106, 108, 110), gap);
        Assert.Equal([108L, 109, 110], events.Select(e => e.Id!.Value));
    }

    [Fact]
    public void Events_older_than_the_age_bound_are_gone()
    {
        var buffer = new ReplayBuffer(100, TimeSpan.FromSeconds(10), _time);
        buffer.Append(Event(1));
        _time.Advance(TimeSpan.FromSeconds(8));
        buffer.Append(Event(2));
        _time.Advance(TimeSpan.FromSeconds(3));

        var (events, gap) = buffer.ReadAfter(0, latestId: 2);

        Assert.Equal(new ResumeGap(0, 2, 2), gap);
        Assert.Equal([2L], events.Select(e => e.Id!.Value));
    }

    [Fact]
    public void An_id_this_stream_never_issued_is_a_gap()
    {
        var buffer = Filled(capacity: 10, ids: 101..111);

        var (_, gap) = buffer.ReadAfter(5_000, latestId: 110);

        Assert.Equal(new ResumeGap(5_000, 101, 110), gap);
    }

    [Fact]
    public void With_replay_off_any_old_id_is_a_gap()
    {
        var buffer = new ReplayBuffer(0, TimeSpan.FromMinutes(1), _time);
        buffer.Append(Event(1));

        var (events, gap) = buffer.ReadAfter(0, latestId: 1);

        Assert.Empty(events);
        Assert.Equal(new ResumeGap(0, null, 1), gap);
    }

    private ReplayBuffer Filled(int capacity, Range ids)
    {
        var buffer = new ReplayBuffer(capacity, TimeSpan.FromMinutes(5), _time);
        for (var id = ids.Start.Value; id < ids.End.Value; id++)
        {
            buffer.Append(Event(id));
        }

        return buffer;
    }

    private StreamEvent Event(long id) => new(id, "metrics", [], _time.GetTimestamp());
}
