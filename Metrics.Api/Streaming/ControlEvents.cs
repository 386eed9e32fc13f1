using System.Net.ServerSentEvents;
using System.Text.Json;
using Metrics.Api.Hosting;
using Microsoft.Extensions.Options;

namespace Metrics.Api.Streaming;

/// <summary>
/// The control events of a stream as SSE frames: <c>ready</c> and <c>ping</c> formatted once at start-up, <c>gap</c>
/// and the farewells (jittered <c>retry</c>) per stream. None carries an id, so a client's resume point only ever
/// moves with real data.
/// </summary>
public sealed class ControlEvents
{
    public const string ReadyType = "ready";
    public const string PingType = "ping";
    public const string GapType = "gap";
    public const string ShutdownType = "shutdown";
    public const string ReconnectType = "reconnect";
    public const string ReauthType = "reauth";
    public const string BackplaneType = "backplane";

    private readonly StreamingOptions _options;
    private readonly byte[] _shutdownData;
    private readonly byte[] _reconnectData;
    private readonly byte[] _reauthData;
    private readonly byte[] _rebalanceData;
    private readonly byte[] _backplaneAvailableData;
    private readonly byte[] _backplaneUnavailableData;

    public ControlEvents(IOptions<StreamingOptions> options, IConfiguration configuration)
    {
        _options = options.Value;
        var instanceId = InstanceIdentity.From(configuration);
        Ready = SseFrames.Format(new SseItem<byte[]>(
            JsonSerializer.SerializeToUtf8Bytes(
                new ReadyData(instanceId, _options.HeartbeatInterval.TotalSeconds),
                ControlEventsJsonContext.Default.ReadyData),
            ReadyType)
        {
            ReconnectionInterval = _options.ReconnectDelay,
        });
        // Empty data: browsers dispatch it to `ping` listeners only, never to onmessage.
        Heartbeat = new StreamEvent(id: null, PingType, [], timestamp: 0);
        _shutdownData = SerializeFarewell("shutdown", instanceId);
        _reconnectData = SerializeFarewell("max_age", instanceId);
        _reauthData = SerializeFarewell("token_expired", instanceId);
        _rebalanceData = SerializeFarewell("rebalance", instanceId);
        _backplaneAvailableData = JsonSerializer.SerializeToUtf8Bytes(
            new BackplaneData(BackplaneData.Available, instanceId), ControlEventsJsonContext.Default.BackplaneData);
        _backplaneUnavailableData = JsonSerializer.SerializeToUtf8Bytes(
            new BackplaneData(BackplaneData.Unavailable, instanceId), ControlEventsJsonContext.Default.BackplaneData);
    }

    /// <summary>First event of every stream (a frame); its <c>retry</c> sets the client's reconnect delay.</summary>
    public byte[] Ready { get; }

    public StreamEvent Heartbeat { get; }

    /// <summary>The client asked to resume after events that are no longer held; what is held follows.</summary>
    public static byte[] Gap(ResumeGap gap) =>
        GapFrame(new GapData(GapData.NotHeld, gap.LastEventId, gap.FirstAvailableId, gap.LatestId, Skipped: null));

    /// <summary>
    /// The client fell behind and <paramref name="skipped"/> events were superseded by newer ones of the same source;
    /// the newest follow, from <paramref name="firstFollowingId"/>.
    /// </summary>
    public static byte[] Skipped(long lastEventId, long? firstFollowingId, long latestId, long skipped) =>
        GapFrame(new GapData(GapData.Lagging, lastEventId, firstFollowingId, latestId, skipped));

    /// <summary>
    /// The shared event log became unavailable (this replica's streams stay open, with its own samples only) or
    /// available again. Queued like any event; a lagging stream keeps only the newest of these.
    /// </summary>
    public StreamEvent Backplane(bool available, long timestamp) => new(
        id: null, BackplaneType, available ? _backplaneAvailableData : _backplaneUnavailableData, timestamp, source: BackplaneType);

    /// <summary>The last event (a frame) for a stream that ends cleanly, or null when there is nobody to tell.</summary>
    public byte[]? Farewell(StreamEndReason? reason) => FarewellItem(reason) is { } item ? SseFrames.Format(item) : null;

    /// <summary>
    /// Entries of the shared log after <paramref name="lastEventId"/> were trimmed before this replica read them: a
    /// <c>gap</c> for every stream it serves, queued like any event.
    /// </summary>
    public static StreamEvent LostEntries(long lastEventId, long latestId, long timestamp) =>
        new(id: null, GapType, GapJson(new GapData(GapData.NotHeld, lastEventId, null, latestId, Skipped: null)), timestamp);

    private static byte[] GapFrame(GapData gap) => SseFrames.Format(new SseItem<byte[]>(GapJson(gap), GapType));

    private static byte[] GapJson(GapData gap) => JsonSerializer.SerializeToUtf8Bytes(gap, ControlEventsJsonContext.Default.GapData);

    private SseItem<byte[]>? FarewellItem(StreamEndReason? reason) => reason switch
    {
        // Jitter spreads the reconnects of every client of this replica over the others.
        StreamEndReason.Shutdown => new SseItem<byte[]>(_shutdownData, ShutdownType)
        {
            ReconnectionInterval = Jitter.Between(_options.ShutdownRetryMin, _options.ShutdownRetryMax),
        },
        StreamEndReason.MaxAge => new SseItem<byte[]>(_reconnectData, ReconnectType)
        {
            ReconnectionInterval = _options.ReconnectDelay,
        },
        StreamEndReason.TokenExpired => new SseItem<byte[]>(_reauthData, ReauthType),
        // Jittered like a shutdown, so the reconnects spread over every replica instead of coming back at once.
        StreamEndReason.Rebalance => new SseItem<byte[]>(_rebalanceData, ReconnectType)
        {
            ReconnectionInterval = Jitter.Between(_options.ShutdownRetryMin, _options.ShutdownRetryMax),
        },
        _ => null,
    };

    private static byte[] SerializeFarewell(string reason, string instanceId) =>
        JsonSerializer.SerializeToUtf8Bytes(new FarewellData(reason, instanceId), ControlEventsJsonContext.Default.FarewellData);
}

public sealed record ReadyData(string InstanceId, double HeartbeatSeconds);

/// <summary>The <c>gap</c> event's data.</summary>
/// <param name="Reason"><see cref="NotHeld"/> (resume point too old, or from another process) or <see cref="Lagging"/>.</param>
/// <param name="LastEventId">The last event the client has.</param>
/// <param name="FirstAvailableId">The first event that follows the gap, or null if none is held yet.</param>
/// <param name="LatestId">The newest event published so far.</param>
/// <param name="Skipped">How many events the client missed, when known.</param>
public sealed record GapData(string Reason, long LastEventId, long? FirstAvailableId, long LatestId, long? Skipped)
{
    public const string NotHeld = "not_held";
    public const string Lagging = "lagging";
}

public sealed record FarewellData(string Reason, string InstanceId);

/// <summary>The <c>backplane</c> event's data: whether the replica serving the stream reaches the shared event log.</summary>
public sealed record BackplaneData(string Status, string InstanceId)
{
    public const string Available = "available";
    public const string Unavailable = "unavailable";
}
