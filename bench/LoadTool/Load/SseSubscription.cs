using System.Buffers;
using System.Buffers.Text;
using System.Diagnostics;
using System.Net.Sockets;

namespace LoadTool.Load;

/// <summary>
/// One SSE subscription and its reader. The reader waits with a zero-byte read (no buffer held while the stream is
/// idle), then parses whole lines in a pooled buffer in place: no string, no event object, no allocation per event.
/// Only the <c>event:</c> name and the <c>"timestamp":</c> number in the data are looked at.
/// </summary>
public sealed class SseSubscription
{
    private const int BufferSize = 8 * 1024;
    private const int MaxLine = 1024 * 1024;
    private static readonly byte[] s_timestampKey = "\"timestamp\":"u8.ToArray();
    private static readonly long s_unixEpochTicks = DateTime.UnixEpoch.Ticks;

    private readonly LoadEngine _engine;
    private readonly byte[] _eventType;
    private readonly bool _dataIsUntyped;
    private readonly TaskCompletionSource<bool> _firstFrame = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private CancellationTokenSource? _cancel;
    private byte[]? _carry;
    private int _carryLength;

    // Parser state for the event being read.
    private bool _hasType;
    private bool _typeMatches;
    private bool _hasData;
    private int _dataBytes;
    private long _timestamp = -1;

    private long _events;
    private volatile bool _closed;
    private int _state; // 0 opening, 1 open, 2 ended

    /// <param name="slot">The stream's number: picks its HTTP/2 connection (slot / streams per connection).</param>
    /// <param name="user">Whose credential it uses; by default the user of stream number <paramref name="slot"/>.</param>
    public SseSubscription(LoadEngine engine, int slot, ReadOnlySpan<byte> eventType, int? user = null)
    {
        _engine = engine;
        Slot = slot;
        User = user ?? engine.Credentials.UserOf(slot);
        _eventType = eventType.ToArray();
        _dataIsUntyped = eventType.SequenceEqual("message"u8);
    }

    public int Slot { get; }

    public int User { get; }

    /// <summary>Data events delivered so far (any time, not only inside a window).</summary>
    public long Events => Volatile.Read(ref _events);

    public bool IsOpen => Volatile.Read(ref _state) == 1;

    /// <summary>True once the first frame (event or comment) arrived, false when the stream failed before it.</summary>
    public Task<bool> FirstFrame => _firstFrame.Task;

    /// <summary>The whole life of the stream; never faults.</summary>
    public Task Completion { get; private set; } = Task.CompletedTask;

    /// <summary>Stops after the first frame (churn) instead of reading on.</summary>
    public bool CloseAfterFirstFrame { get; init; }

    public void Start(CancellationToken stop)
    {
        _cancel = CancellationTokenSource.CreateLinkedTokenSource(stop);
        _cancel.CancelAfter(_engine.Options.OpenTimeout);
        Completion = RunAsync(_cancel.Token);
    }

    /// <summary>Closes the stream (HTTP/2: RST_STREAM; HTTP/1.1: the connection).</summary>
    public void Close()
    {
        _closed = true;
        try
        {
            _cancel?.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private static long NowMicroseconds() => (DateTime.UtcNow.Ticks - s_unixEpochTicks) / 10;

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        HttpResponseMessage? response = null;
        try
        {
            var invoker = _engine.Transport.For(Slot);
            var (request, failure) = await _engine.Credentials.CreateStreamRequestAsync(_engine.Transport, invoker, User, cancellationToken);
            if (request is null)
            {
                Fail(failure ?? "auth_failed");
                return;
            }

            using (request)
            {
                response = await invoker.SendAsync(request, cancellationToken);
            }

            if (!response.IsSuccessStatusCode)
            {
                Fail($"http_{(int)response.StatusCode}");
                return;
            }

            if (response.Content.Headers.ContentType?.MediaType != "text/event-stream")
            {
                Fail("not_event_stream");
                return;
            }

            var body = await response.Content.ReadAsStreamAsync(cancellationToken);
            while (true)
            {
                // Wait for data without holding a buffer: idle streams cost no buffer memory.
                _ = await body.ReadAsync(Memory<byte>.Empty, cancellationToken);
                var buffer = ArrayPool<byte>.Shared.Rent(Math.Max(BufferSize, _carryLength * 2));
                try
                {
                    var filled = 0;
                    if (_carryLength > 0)
                    {
                        _carry.AsSpan(0, _carryLength).CopyTo(buffer);
                        filled = _carryLength;
                        _carryLength = 0;
                    }

                    var read = await body.ReadAsync(buffer.AsMemory(filled), cancellationToken);
                    if (read == 0)
                    {
                        Fail("server_ended");
                        return;
                    }

                    filled += read;
                    var consumed = Parse(buffer.AsSpan(0, filled), started);
                    var left = filled - consumed;
                    if (left > 0)
                    {
                        if (left > MaxLine)
                        {
                            Fail("line_too_long");
                            return;
                        }

                        if (_carry is null || _carry.Length < left)
                        {
                            _carry = new byte[Math.Max(left, 256)];
                        }

                        buffer.AsSpan(consumed, left).CopyTo(_carry);
                        _carryLength = left;
                    }
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }

                if (CloseAfterFirstFrame && _state == 1)
                {
                    return;
                }
            }
        }
        catch (Exception) when (_engine.Stopping.IsCancellationRequested || (CloseAfterFirstFrame && _state == 1) || _closed)
        {
            // Closed on purpose.
        }
        catch (OperationCanceledException) when (_state == 0)
        {
            Fail("open_timeout");
        }
        catch (OperationCanceledException)
        {
            Fail("cancelled");
        }
        catch (Exception ex)
        {
            Fail(Classify(ex));
        }
        finally
        {
            response?.Dispose();
            if (Interlocked.Exchange(ref _state, 2) == 1)
            {
                _engine.StreamClosed();
            }

            _firstFrame.TrySetResult(false);
            _cancel?.Dispose();
        }
    }

    /// <summary>Parses every complete line; returns how many bytes it consumed (the rest is an unfinished line).</summary>
    private int Parse(ReadOnlySpan<byte> data, long started)
    {
        var receivedAt = NowMicroseconds();
        var consumed = 0;
        while (true)
        {
            var rest = data[consumed..];
            var newline = rest.IndexOf((byte)'\n');
            if (newline < 0)
            {
                return consumed;
            }

            var line = rest[..newline];
            consumed += newline + 1;
            if (!line.IsEmpty && line[^1] == (byte)'\r')
            {
                line = line[..^1];
            }

            if (line.IsEmpty)
            {
                Dispatch(receivedAt, started);
                continue;
            }

            if (line[0] == (byte)':')
            {
                OnFrame(started); // a comment (nchan's ": hi", heartbeats) is a frame too
                continue;
            }

            var colon = line.IndexOf((byte)':');
            var field = colon < 0 ? line : line[..colon];
            var value = colon < 0 ? [] : line[(colon + 1)..];
            if (!value.IsEmpty && value[0] == (byte)' ')
            {
                value = value[1..];
            }

            if (field.SequenceEqual("event"u8))
            {
                _hasType = true;
                _typeMatches = value.SequenceEqual(_eventType);
            }
            else if (field.SequenceEqual("data"u8))
            {
                _hasData = true;
                _dataBytes += value.Length;
                if (_timestamp < 0)
                {
                    var at = value.IndexOf(s_timestampKey);
                    if (at >= 0)
                    {
                        var number = value[(at + s_timestampKey.Length)..].TrimStart((byte)' ');
                        if (Utf8Parser.TryParse(number, out long ms, out _))
                        {
                            _timestamp = ms;
                        }
                    }
                }
            }
        }
    }

    private void Dispatch(long receivedAt, long started)
    {
        if (_hasType || _hasData)
        {
            OnFrame(started);
            if (_hasData && (_hasType ? _typeMatches : _dataIsUntyped))
            {
                Interlocked.Increment(ref _events);
                // Event timestamps are whole unix milliseconds: the latency carries up to 1 ms of rounding up,
                // the same for every server measured.
                Recorder.Record(_timestamp >= 0 ? Math.Max(0, receivedAt - (_timestamp * 1000)) : -1, _dataBytes);
            }
        }

        _hasType = false;
        _typeMatches = false;
        _hasData = false;
        _dataBytes = 0;
        _timestamp = -1;
    }

    private void OnFrame(long started)
    {
        if (_state != 0 || Interlocked.CompareExchange(ref _state, 1, 0) != 0)
        {
            return;
        }

        _cancel?.CancelAfter(Timeout.Infinite);
        _engine.StreamOpened(Stopwatch.GetElapsedTime(started));
        _firstFrame.TrySetResult(true);
    }

    private void Fail(string cause)
    {
        if (_state == 0)
        {
            _engine.Failures.Add(cause);
        }
        else if (_state == 1)
        {
            _engine.Drops.Add(cause);
        }
    }

    internal static string Classify(Exception ex)
    {
        for (var e = ex; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case SocketException socket:
                    return "socket_" + socket.SocketErrorCode;
                case System.Security.Authentication.AuthenticationException:
                    return "tls_failed";
                case HttpIOException io:
                    return "io_" + io.HttpRequestError;
                case HttpRequestException http when e.InnerException is null or not SocketException:
                    return "http_" + http.HttpRequestError;
            }
        }

        return ex is IOException ? "io_error" : ex.GetType().Name;
    }
}
