using System.Buffers.Text;
using System.Diagnostics;
using System.Text;

namespace LoadTool;

/// <summary>
/// One event stream and the one SSE parser: the transport hands it the status and the body's bytes in any split; whole lines are
/// parsed in place (only a partial line is copied); only <c>event:</c> and the data's <c>"timestamp":</c> (unix ms) are read.
/// </summary>
public sealed class SseSubscription(LoadEngine engine, int slot, int user)
{
    private static readonly byte[] s_timestampKey = "\"timestamp\":"u8.ToArray();
    private readonly TaskCompletionSource<bool> _firstFrame = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly long _started = Stopwatch.GetTimestamp();
    private byte[]? _carry;
    private int _carryLength;
    private bool _hasType, _typeMatches, _hasData;
    private int _dataBytes;
    private double _timestamp = -1;
    private StringBuilder? _data;
    private int _state; // 0 opening, 1 open, 2 ended
    public int Slot => slot;
    public int User => user;

    /// <summary>True once the first frame (event or comment) arrived, false when the stream ended before it.</summary>
    public Task<bool> FirstFrame => _firstFrame.Task;

    /// <summary>Probes only: receives the data of every matching event as a string.</summary>
    public Action<string>? OnEventData { get; init; }

    /// <summary>Set by the transport: how to close this stream (HTTP/2 RST_STREAM; HTTP/1.1 the connection).</summary>
    internal Action? CloseTransport { get; set; }
    public void Close() => End(null);

    /// <summary>The stream ended: <paramref name="cause"/> is a failure before the first frame, a drop after it; null when closed on purpose.</summary>
    public void End(string? cause)
    {
        var was = Interlocked.Exchange(ref _state, 2);
        if (was == 2) return;
        if (cause is not null && !engine.Stopping.IsCancellationRequested) (was == 0 ? engine.Failures : engine.Drops).Add(cause);
        if (was == 1) engine.StreamClosed();
        CloseTransport?.Invoke();
        _firstFrame.TrySetResult(false);
    }

    public void OnStatus(int status)
    {
        if (status != 200) End($"http_{status}");
    }

    public void OnData(ReadOnlySpan<byte> data)
    {
        if (_carryLength == 0)
        {
            Keep(data[Parse(data)..]);
            return;
        }

        if (_carry!.Length < _carryLength + data.Length) Array.Resize(ref _carry, Math.Max(_carry.Length * 2, _carryLength + data.Length));
        data.CopyTo(_carry.AsSpan(_carryLength));
        var all = _carry.AsSpan(0, _carryLength + data.Length);
        _carryLength = 0;
        Keep(all[Parse(all)..]);
    }

    private void Keep(ReadOnlySpan<byte> rest)
    {
        if (rest.Length > 1 << 20)
        {
            End("line_too_long");
        }
        else if (!rest.IsEmpty)
        {
            if (_carry is null || _carry.Length < rest.Length) _carry = new byte[Math.Max(rest.Length, 256)];
            rest.CopyTo(_carry); // may overlap its own source in _carry: CopyTo handles it
            _carryLength = rest.Length;
        }
    }

    /// <summary>Parses every complete line; returns the bytes consumed (the rest is an unfinished line).</summary>
    private int Parse(ReadOnlySpan<byte> data)
    {
        var receivedAt = (DateTime.UtcNow - DateTime.UnixEpoch).Ticks / 10; // microseconds
        var consumed = 0;
        int newline;
        while ((newline = data[consumed..].IndexOf((byte)'\n')) >= 0)
        {
            var line = data.Slice(consumed, newline);
            consumed += newline + 1;
            if (!line.IsEmpty && line[^1] == (byte)'\r') line = line[..^1];
            if (line.IsEmpty)
            {
                Dispatch(receivedAt);
                continue;
            }

            if (line[0] == (byte)':')
            {
                OnFrame(); // a comment (nchan's ": hi", heartbeats) is a frame too
                continue;
            }

            var colon = line.IndexOf((byte)':');
            var field = colon < 0 ? line : line[..colon];
            var value = colon < 0 ? [] : line[(colon + 1)..];
            value = !value.IsEmpty && value[0] == (byte)' ' ? value[1..] : value;
            if (field.SequenceEqual("event"u8))
            {
                _hasType = true;
                _typeMatches = value.SequenceEqual(engine.EventType);
            }
            else if (field.SequenceEqual("data"u8))
            {
                _hasData = true;
                _dataBytes += value.Length;
                if (OnEventData is not null) (_data ??= new()).Append(Encoding.UTF8.GetString(value));
                var at = _timestamp < 0 ? value.IndexOf(s_timestampKey) : -1;
                if (at >= 0 && Utf8Parser.TryParse(value[(at + s_timestampKey.Length)..].TrimStart((byte)' '), out double ms, out _)) _timestamp = ms;
            }
        }

        return consumed;
    }

    private void Dispatch(long receivedAt)
    {
        if (_hasType || _hasData)
        {
            OnFrame();
            if (_hasData && (_hasType ? _typeMatches : engine.EventType.AsSpan().SequenceEqual("message"u8)))
            {
                // Metrics.Api's and nchan's timestamps are whole milliseconds: their latency carries up to 1 ms of
                // rounding up, the same for every server measured.
                Recorder.Record(_timestamp >= 0 ? Math.Max(0, receivedAt - (long)(_timestamp * 1000)) : -1, _dataBytes, (long)_timestamp);
                if (_data is not null) OnEventData?.Invoke(_data.ToString());
            }
        }

        _hasType = _typeMatches = _hasData = false;
        _dataBytes = 0;
        _timestamp = -1;
        _data?.Clear();
    }

    private void OnFrame()
    {
        if (_state == 0 && Interlocked.CompareExchange(ref _state, 1, 0) == 0)
        {
            engine.StreamOpened(Stopwatch.GetElapsedTime(_started));
            _firstFrame.TrySetResult(true);
        }
    }
}
