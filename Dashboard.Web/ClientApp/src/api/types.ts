// Every wire type the dashboard reads, in one place. They mirror, field for field:
// - Metrics.Api/Sampling/MetricsSample.cs            (the `metrics` event, camelCase JSON)
// - Metrics.Api/Streaming/ControlEvents.cs           (`ready`, `gap`, `backplane`, `shutdown`, `reconnect`, `reauth`)
// - Dashboard.Web/Apis/BffApi.cs                     (the /bff/* endpoints)

/** `metrics` event: one sample of one Metrics.Api replica. */
export interface MetricsSample {
  /** When it was sampled, unix milliseconds. */
  timestamp: number;
  /** The replica that sampled it (service.instance.id). */
  instanceId: string;
  process: ProcessMetrics;
  host: HostMetrics;
  streams: StreamTotals;
}

export interface ProcessMetrics {
  /** % of the CPUs the process may use; null on the first sample. */
  cpuPercent: number | null;
  workingSetBytes: number;
  gcHeapBytes: number;
  allocatedBytes: number;
  threadPoolQueueLength: number;
  threadPoolThreads: number;
}

export interface HostMetrics {
  /** "cgroup" (container numbers) or "proc" (host numbers). */
  source: string;
  cpuPercent: number | null;
  cpuLimitCores: number;
  memoryUsedBytes: number | null;
  memoryLimitBytes: number | null;
}

export interface StreamTotals {
  /** Streams open on this replica. */
  open: number;
  /** Distinct users with an open stream on this replica. */
  users: number;
  eventsPerSecond: number;
}

/** `ready` event: first event of every stream. */
export interface ReadyData {
  instanceId: string;
  heartbeatSeconds: number;
}

/**
 * `gap` event: events between `lastEventId` and `firstAvailableId` will not arrive. `not_held`: the resume id was
 * too old (or from another process); what is still held follows. `lagging`: the stream fell behind and `skipped`
 * older samples were superseded by newer ones; the newest follow.
 */
export interface GapData {
  reason?: 'not_held' | 'lagging';
  lastEventId: number;
  firstAvailableId: number | null;
  latestId: number;
  skipped?: number | null;
}

/** `shutdown`, `reconnect` and `reauth` events: the server is ending this stream. */
export interface FarewellData {
  reason: string;
  instanceId: string;
}

/**
 * `backplane` event: whether the replica serving this stream reaches the shared event log (Redis). While it
 * does not, the stream stays open with that replica's own samples only.
 */
export interface BackplaneData {
  status: 'available' | 'unavailable';
  instanceId: string;
}

/** The event types the metrics stream sends. `heartbeat` is accepted as an alias of `ping`. */
export const StreamEventTypes = ['ready', 'metrics', 'ping', 'heartbeat', 'gap', 'backplane', 'reauth', 'reconnect', 'shutdown'] as const;
export type StreamEventType = (typeof StreamEventTypes)[number];

/** One event as the dashboard sees it (from the EventSource transport). */
export interface StreamMessage {
  type: string;
  /** The SSE id, or null for events without one (control events). */
  id: string | null;
  /** Raw data text (JSON for every event the service sends; empty for pings). */
  data: string;
  /** Local receive time, ms since epoch. */
  receivedAt: number;
}

/** POST /bff/stream-ticket (relayed from Metrics.Api POST /api/stream/tickets). */
export interface StreamTicket {
  ticket: string;
  /** ISO-8601. The ticket is single-use and short-lived. */
  expiresAt: string;
  /** ISO-8601. The stream ends (with `reauth`) at this time. */
  sessionExpiresAt: string;
}

export type SignInMode = 'development' | 'openIdConnect' | 'none';

/** GET /bff/user. */
export interface BffUser {
  isAuthenticated: boolean;
  name: string | null;
  signInMode: SignInMode;
}

/** GET /bff/antiforgery. */
export interface AntiforgeryToken {
  requestToken: string;
  headerName: string;
}

/** RFC 9457 problem details, as the BFF returns them. */
export interface ProblemDetails {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
}
