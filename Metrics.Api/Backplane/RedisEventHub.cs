using Metrics.Api.Hosting;
using Metrics.Api.Streaming;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Metrics.Api.Backplane;

/// <summary>
/// The hub of a service with several replicas: one event log on a Redis stream. Every replica appends its samples
/// (<c>XADD</c>, trimmed to the replay window) and announces them on a channel; one loop per process reads the log
/// in order and fans each entry out to this replica's streams, framed once. Ids are the entries' (global and
/// ordered), so a client resumes on any replica with nothing missing and nothing twice.
/// </summary>
/// <remarks>
/// <para>Replay comes from the events this process has read (no round trip) when they cover the resume point,
/// else from the log by id; a resume point older than the log, or the log's age bound, is an explicit <c>gap</c>.</para>
/// <para>Redis unavailable: streams stay open and get a <c>backplane</c> event; this replica's samples still
/// reach its own streams (without ids: they are not in the log, so not resumable); nothing queues up. When Redis
/// returns, reading resumes where it stopped, and a <c>gap</c> goes out only if entries were trimmed meanwhile.</para>
/// </remarks>
public sealed partial class RedisEventHub : BackgroundService, IEventHub
{
    private const string TypeField = "t";
    private const string SourceField = "s";
    private const string DataField = "d";

    // One round trip, one consistent view: what was trimmed, the newest id, and the entries after the resume point.
    private const string LookupScript = """
        if redis.call('EXISTS', KEYS[1]) == 0 then return {'0-0', '0-0', {}} end
        local info = redis.call('XINFO', 'STREAM', KEYS[1])
        local maxDeleted, lastGenerated = '0-0', '0-0'
        for i = 1, #info, 2 do
          if info[i] == 'max-deleted-entry-id' then maxDeleted = info[i + 1]
          elseif info[i] == 'last-generated-id' then lastGenerated = info[i + 1] end
        end
        local entries = {}
        if ARGV[2] ~= '0' then entries = redis.call('XREVRANGE', KEYS[1], '+', ARGV[1], 'COUNT', ARGV[2]) end
        return {maxDeleted, lastGenerated, entries}
        """;

    private readonly IConnectionMultiplexer _redis;
    private readonly StreamSubscribers _subscribers;
    private readonly ControlEvents _controlEvents;
    private readonly StreamMetrics _metrics;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger<RedisEventHub> _logger;
    private readonly RedisOutage _outage;
    private readonly RedisEventLogOptions _options;
    private readonly StreamingOptions _streaming;
    private readonly RedisKey _key;
    private readonly RedisChannel _appended;
    private readonly string _instanceId;
    private readonly Lock _replayLock = new();
    private readonly SemaphoreSlim _wakeUp = new(0);
    private ReplayBuffer? _replay;
    private int _wakeUpPending;
    private bool _readerInterrupted;

    public RedisEventHub(
        IConnectionMultiplexer redis,
        StreamSubscribers subscribers,
        ControlEvents controlEvents,
        StreamMetrics metrics,
        IOptions<RedisEventLogOptions> options,
        IOptions<StreamingOptions> streaming,
        IConfiguration configuration,
        RedisOutage outage,
        TimeProvider timeProvider,
        ILogger<RedisEventHub> logger)
    {
        _outage = outage;
        _redis = redis;
        _subscribers = subscribers;
        _controlEvents = controlEvents;
        _metrics = metrics;
        _timeProvider = timeProvider;
        _logger = logger;
        _options = options.Value;
        _streaming = streaming.Value;
        _key = new RedisKey(_options.Key);
        _appended = RedisChannel.Literal(_options.Key + ":appended");
        _instanceId = InstanceIdentity.From(configuration);
        // Whoever notices first (the log's reader, a publisher, a ticket, a lease), every stream hears it once.
        outage.Changed += down => _subscribers.Deliver(BackplaneEvent(available: !down));
    }

    /// <summary>Whether Redis answered the last time this replica asked.</summary>
    public bool IsAvailable => !_outage.IsDown;

    /// <summary>
    /// Appends to the log and returns the entry's event id. With Redis unavailable the event reaches this replica's
    /// streams only, without an id, and 0 is returned.
    /// </summary>
    public async ValueTask<long> PublishAsync(string eventType, ReadOnlyMemory<byte> utf8Data, CancellationToken cancellationToken = default)
    {
        StreamEvent.ValidateEventType(eventType);
        var data = utf8Data.ToArray();
        if (_redis.IsConnected)
        {
            try
            {
                var entryId = await _redis.GetDatabase().StreamAddAsync(
                    _key,
                    [new(TypeField, eventType), new(SourceField, _instanceId), new(DataField, data)],
                    maxLength: Math.Max(_streaming.ReplayCapacity, 1),
                    useApproximateMaxLength: true);
                await _redis.GetSubscriber().PublishAsync(_appended, entryId, CommandFlags.FireAndForget);
                // This replica's own streams need not wait for the notification to come back.
                WakeReader();
                return RedisEventIds.ToEventId(entryId);
            }
            catch (Exception exception) when (exception is RedisException or TimeoutException)
            {
                BecameUnavailable(exception);
            }
        }
        else
        {
            BecameUnavailable(null);
        }

        _subscribers.Deliver(new StreamEvent(null, eventType, data, _timeProvider.GetTimestamp(), SourceOf(_instanceId, eventType)));
        return 0;
    }

    public async ValueTask<StreamSubscription> SubscribeAsync(SubscriptionRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        // Registered first, replay read second: nothing falls between; the response skips what both carry.
        var subscription = _subscribers.Add(request);
        if (!IsAvailable)
        {
            _subscribers.DeliverTo(subscription, BackplaneEvent(available: false));
        }

        if (request.LastEventId is not { } lastEventId)
        {
            return subscription;
        }

        lock (_replayLock)
        {
            if (_replay is { } replay && replay.Covers(lastEventId))
            {
                var (events, gap) = replay.ReadAfter(lastEventId);
                subscription.SetReplay(events, gap);
                _metrics.ReplayLookup(StreamMetrics.ReplayFromMemory);
                return subscription;
            }
        }

        try
        {
            var (events, gap) = await LookUpAsync(lastEventId);
            subscription.SetReplay(events, gap);
            _metrics.ReplayLookup(StreamMetrics.ReplayFromLog);
        }
        catch (Exception exception) when (exception is RedisException or TimeoutException)
        {
            BecameUnavailable(exception);
            // Whatever this process holds, and the honest news that it may not be everything.
            lock (_replayLock)
            {
                // What this process holds; the buffer reports the gap itself when it does not cover the resume point.
                var (held, gap) = _replay?.ReadAfter(lastEventId) ?? ([], new ResumeGap(lastEventId, null, lastEventId));
                subscription.SetReplay(held, gap);
            }
        }

        return subscription;
    }

    public override void Dispose()
    {
        _wakeUp.Dispose();
        base.Dispose();
    }

    /// <summary>The one reader of the log in this process: reads in order, fans out, keeps the recent events for replay.</summary>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        long? position = null;
        var subscribed = false;
        var retryDelay = TimeSpan.FromMilliseconds(100);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (!subscribed)
                {
                    await _redis.GetSubscriber().SubscribeAsync(_appended, (_, _) => WakeReader());
                    subscribed = true;
                }

                if (position is null)
                {
                    // Start at the log's end: earlier entries are replay, not live.
                    var (_, latest, _) = await LookUpRawAsync("+", 0);
                    position = latest;
                    lock (_replayLock)
                    {
                        _replay = new ReplayBuffer(_streaming.ReplayCapacity, _streaming.ReplayMaxAge, _timeProvider, floor: latest);
                    }
                }
                else if (_readerInterrupted)
                {
                    position = await CatchUpAfterOutageAsync(position.Value);
                    _readerInterrupted = false;
                }

                position = await ReadNewEntriesAsync(position.Value);
                BecameAvailable();
                retryDelay = TimeSpan.FromMilliseconds(100);
                await WaitForAppendAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception exception) when (exception is RedisException or TimeoutException)
            {
                _readerInterrupted = true;
                BecameUnavailable(exception);
                await Task.Delay(retryDelay, _timeProvider, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                retryDelay = TimeSpan.FromTicks(Math.Min(retryDelay.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
            }
        }
    }

    private async Task<long> ReadNewEntriesAsync(long position)
    {
        var database = _redis.GetDatabase();
        while (true)
        {
            var entries = await database.StreamRangeAsync(
                _key, "(" + RedisEventIds.ToEntryId(position), "+", _options.ReadBatch, Order.Ascending);
            foreach (var entry in entries)
            {
                var streamEvent = ToStreamEvent(entry.Id, entry.Values);
                position = streamEvent.Id!.Value;
                lock (_replayLock)
                {
                    _replay!.Append(streamEvent);
                }

                _subscribers.Deliver(streamEvent);
            }

            _metrics.EventsReadFromLog(entries.Length);
            if (entries.Length < _options.ReadBatch)
            {
                return position;
            }
        }
    }

    /// <summary>
    /// Back after an outage: entries after <paramref name="position"/> that were trimmed meanwhile are lost to this
    /// replica's streams; they hear so (a <c>gap</c>) and reading goes on after what was trimmed.
    /// </summary>
    private async Task<long> CatchUpAfterOutageAsync(long position)
    {
        var (maxDeleted, latest, _) = await LookUpRawAsync("+", 0);
        if (maxDeleted <= position)
        {
            return position;
        }

        BackplaneLog.EntriesLost(_logger, position, maxDeleted);
        lock (_replayLock)
        {
            _replay!.Reset(maxDeleted);
        }

        _subscribers.Deliver(ControlEvents.LostEntries(position, latest, _timeProvider.GetTimestamp()));
        return maxDeleted;
    }

    private async Task<(IReadOnlyList<StreamEvent> Events, ResumeGap? Gap)> LookUpAsync(long lastEventId)
    {
        // One more than the window: if it comes back full, something before it is missing too.
        var window = Math.Max(_streaming.ReplayCapacity, 0);
        var (maxDeleted, latest, newestFirst) = await LookUpRawAsync("(" + RedisEventIds.ToEntryId(lastEventId), window + 1);
        var oldestAllowed = _timeProvider.GetUtcNow() - _streaming.ReplayMaxAge;
        var events = new List<StreamEvent>(newestFirst.Length);
        var lost = lastEventId > latest || maxDeleted > lastEventId || newestFirst.Length > window;
        foreach (var entry in newestFirst.Take(window).Reverse())
        {
            var streamEvent = ToStreamEvent(entry.Id, entry.Values);
            if (RedisEventIds.AppendedAt(streamEvent.Id!.Value) < oldestAllowed)
            {
                lost = true;
                continue;
            }

            events.Add(streamEvent);
        }

        var gap = lost ? new ResumeGap(lastEventId, events.Count > 0 ? events[0].Id : null, latest) : null;
        return (events, gap);
    }

    private async Task<(long MaxDeleted, long Latest, StreamEntry[] NewestFirst)> LookUpRawAsync(string after, int count)
    {
        var result = (RedisResult[])(await _redis.GetDatabase().ScriptEvaluateAsync(
            LookupScript, [_key], [after, count]))!;
        var entries = ((RedisResult[])result[2]!).Select(ToStreamEntry).ToArray();
        return (RedisEventIds.ToEventId((RedisValue)result[0]), RedisEventIds.ToEventId((RedisValue)result[1]), entries);
    }

    private static StreamEntry ToStreamEntry(RedisResult raw)
    {
        var parts = (RedisResult[])raw!;
        var fields = (RedisValue[])parts[1]!;
        var values = new NameValueEntry[fields.Length / 2];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = new NameValueEntry(fields[2 * i], fields[(2 * i) + 1]);
        }

        return new StreamEntry((RedisValue)parts[0], values);
    }

    private StreamEvent ToStreamEvent(RedisValue entryId, NameValueEntry[] values)
    {
        RedisValue type = default, source = default, data = default;
        foreach (var value in values)
        {
            switch ((string?)value.Name)
            {
                case TypeField: type = value.Value; break;
                case SourceField: source = value.Value; break;
                case DataField: data = value.Value; break;
            }
        }

        var eventType = (string?)type ?? throw new FormatException($"Log entry {entryId} has no event type.");
        return new StreamEvent(
            RedisEventIds.ToEventId(entryId), eventType, (byte[]?)data ?? [], _timeProvider.GetTimestamp(), SourceOf((string?)source, eventType));
    }

    // A lagging stream keeps the newest event per replica and type: one replica's sample never hides another's.
    private static string SourceOf(string? instanceId, string eventType) => $"{instanceId}:{eventType}";

    private async Task WaitForAppendAsync(CancellationToken stoppingToken)
    {
        await _wakeUp.WaitAsync(_options.PollInterval, stoppingToken);
        Volatile.Write(ref _wakeUpPending, 0);
    }

    private void WakeReader()
    {
        if (Interlocked.Exchange(ref _wakeUpPending, 1) == 0)
        {
            _wakeUp.Release();
        }
    }

    private void BecameUnavailable(Exception? exception) => _outage.Failed("event log", exception);

    private void BecameAvailable() => _outage.Succeeded();

    private StreamEvent BackplaneEvent(bool available) => _controlEvents.Backplane(available, _timeProvider.GetTimestamp());
}
