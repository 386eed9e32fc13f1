using System.Net.ServerSentEvents;
using System.Text.Json;
using Metrics.Api.Hosting;
using Microsoft.Extensions.Options;

namespace Metrics.Api.Streaming;

/// <summary>
/// The control events every stream shares, serialized once at start-up: <c>ready</c>,
/// <c>ping</c>, <c>gap</c> and the farewells. None carries an id, so a client's resume point only ever moves
/// with real data.
/// </summary>
public sealed class ControlEvents
{
    public const string ReadyType = "ready";
    public const string PingType = "ping";
    public const string GapType = "gap";
    public const string ShutdownType = "shutdown";
    public const string ReconnectType = "reconnect";
    public const string ReauthType = "reauth";

    private readonly StreamingOptions _options;
    private readonly byte[] _shutdownData;
    private readonly byte[] _reconnectData;
    private readonly byte[] _reauthData;
    private readonly byte[] _rebalanceData;

    public ControlEvents(IOptions<StreamingOptions> options, IConfiguration configuration)
    {
        _options = options.Value;
        var instanceId = InstanceIdentity.From(configuration);
        Ready = new SseItem<byte[]>(
            JsonSerializer.SerializeToUtf8Bytes(
                new ReadyData(instanceId, _options.HeartbeatInterval.TotalSeconds),
                ControlEventsJsonContext.Default.ReadyData),
            ReadyType)
        {
            ReconnectionInterval = _options.ReconnectDelay,
        };
        // Empty data: browsers dispatch it to `ping` listeners only, never to onmessage.
        Heartbeat = new StreamEvent(id: null, PingType, [], timestamp: 0);
        _shutdownData = SerializeFarewell("shutdown", instanceId);
        _reconnectData = SerializeFarewell("max_age", instanceId);
        _reauthData = SerializeFarewell("token_expired", instanceId);
        _rebalanceData = SerializeFarewell("rebalance", instanceId);
    }

    /// <summary>First event of every stream; its <c>retry</c> sets the client's reconnect delay.</summary>
    public SseItem<byte[]> Ready { get; }

    public StreamEvent Heartbeat { get; }

    public static SseItem<byte[]> Gap(ResumeGap gap) => new(
        JsonSerializer.SerializeToUtf8Bytes(
            new GapData(gap.LastEventId, gap.FirstAvailableId, gap.LatestId),
            ControlEventsJsonContext.Default.GapData),
        GapType);

    /// <summary>The last event for a stream that ends cleanly, or null when there is nobody to tell.</summary>
    public SseItem<byte[]>? Farewell(StreamEndReason? reason) => reason switch
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

public sealed record GapData(long LastEventId, long? FirstAvailableId, long LatestId);

public sealed record FarewellData(string Reason, string InstanceId);
