using System.Diagnostics.Metrics;
using Metrics.Api.Streaming;

namespace Metrics.Api.Backplane;

/// <summary>
/// What the Redis backplane adds to the stream meter (<see cref="StreamMetrics.MeterName"/>; the factory hands back
/// the same meter): how often an outage changed an answer. Redis calls themselves are traced by the Aspire client.
/// </summary>
public sealed class BackplaneMetrics
{
    public const string LimitFallbacksName = "sse.server.stream_limit.fallbacks";
    public const string TicketsUnverifiedName = "sse.server.stream_tickets.unverified";

    private readonly Counter<long> _limitFallbacks;
    private readonly Counter<long> _ticketsUnverified;

    public BackplaneMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(StreamMetrics.MeterName);
        _limitFallbacks = meter.CreateCounter<long>(
            LimitFallbacksName,
            unit: "{stream}",
            description: "Streams admitted on this replica's own per-user count because Redis was unreachable.");
        _ticketsUnverified = meter.CreateCounter<long>(
            TicketsUnverifiedName,
            unit: "{ticket}",
            description: "Stream tickets refused (503) because Redis, which records redemptions, was unreachable.");
    }

    public void LimitFellBack() => _limitFallbacks.Add(1);

    public void TicketUnverified() => _ticketsUnverified.Add(1);
}
