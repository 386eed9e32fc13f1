// What the dashboard knows: the newest sample and a few minutes of history per Metrics.Api
// replica, and a bounded log of received events. Framework-free (useSyncExternalStore reads it).

import type { BackplaneData, GapData, FarewellData, MetricsSample, ReadyData, StreamMessage } from '../api/types';

export interface SeriesPoint {
  /** Sample time, unix seconds (uPlot's time unit). */
  t: number;
  cpuPercent: number | null;
  workingSetMiB: number;
  openStreams: number;
  eventsPerSecond: number;
}

export interface InstanceView {
  instanceId: string;
  latest: MetricsSample;
  /** Local time the latest sample arrived, ms since epoch. */
  receivedAt: number;
  history: SeriesPoint[];
}

export interface LogEntry {
  /** Local sequence number (React key). */
  seq: number;
  type: string;
  id: string | null;
  receivedAt: number;
  /** When it happened: the sample's own time for metrics (replayed ones included), else when it arrived. */
  time: number;
  summary: string;
}

export interface DashboardSnapshot {
  version: number;
  instances: readonly InstanceView[];
  log: readonly LogEntry[];
  /** Ids of the `metrics` events received, in order (bounded): what the end-to-end tests check. */
  receivedIds: readonly number[];
  gaps: readonly GapData[];
  lastSampleAt: number | null;
  /** The replica that reported it cannot reach the shared event log, or null when all is well. */
  backplaneUnavailableAt: string | null;
}

export interface DashboardStoreOptions {
  /** History kept per instance. */
  windowMs?: number;
  logCapacity?: number;
  idCapacity?: number;
  /** An instance with no sample for this long leaves the cards and charts. */
  instanceExpiryMs?: number;
  /**
   * Changes are published at most this often (a replay of hundreds of events renders once, not
   * hundreds of times); 0 publishes every change at once.
   */
  publishDelayMs?: number;
  now?: () => number;
}

const MiB = 1024 * 1024;

export class DashboardStore {
  private readonly windowMs: number;
  private readonly logCapacity: number;
  private readonly idCapacity: number;
  private readonly instanceExpiryMs: number;
  private readonly now: () => number;
  private readonly publishDelayMs: number;
  private publishTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly listeners = new Set<() => void>();
  private readonly instances = new Map<string, InstanceView>();
  private log: LogEntry[] = [];
  private receivedIds: number[] = [];
  private gaps: GapData[] = [];
  private seq = 0;
  private lastSampleAt: number | null = null;
  private backplaneUnavailableAt: string | null = null;
  private snapshot: DashboardSnapshot;

  constructor(options: DashboardStoreOptions = {}) {
    this.windowMs = options.windowMs ?? 5 * 60_000;
    this.logCapacity = options.logCapacity ?? 200;
    this.idCapacity = options.idCapacity ?? 20_000;
    this.instanceExpiryMs = options.instanceExpiryMs ?? 30_000;
    this.now = options.now ?? Date.now;
    this.publishDelayMs = options.publishDelayMs ?? 0;
    this.snapshot = this.buildSnapshot(0);
  }

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getSnapshot = (): DashboardSnapshot => this.snapshot;

  /** Applies one stream event. */
  apply(message: StreamMessage): void {
    switch (message.type) {
      case 'metrics':
        this.applySample(message);
        break;
      case 'ping':
      case 'heartbeat':
        return; // keeps the connection alive; nothing to show
      case 'gap': {
        const gap = parseJson<GapData>(message.data);
        if (gap) {
          this.gaps = [...this.gaps.slice(-49), gap];
        }
        this.addLog(message, describeGap(gap));
        break;
      }
      case 'backplane': {
        const status = parseJson<BackplaneData>(message.data);
        this.backplaneUnavailableAt = status?.status === 'unavailable' ? status.instanceId : null;
        this.addLog(
          message,
          status?.status === 'unavailable'
            ? `${status.instanceId} cannot reach the shared event log: its own samples only`
            : `${status?.instanceId ?? 'the server'} reaches the shared event log again`,
        );
        break;
      }
      case 'ready': {
        this.backplaneUnavailableAt = null;
        const ready = parseJson<ReadyData>(message.data);
        this.addLog(message, ready ? `connected to ${ready.instanceId}` : 'connected');
        break;
      }
      case 'shutdown':
      case 'reconnect':
      case 'reauth': {
        const farewell = parseJson<FarewellData>(message.data);
        this.addLog(message, farewell ? `${farewell.instanceId} ended the stream (${farewell.reason})` : 'the server ended the stream');
        break;
      }
      default:
        this.addLog(message, truncate(message.data, 80));
        break;
    }
    this.publish();
  }

  /** Forgets everything (e.g. after signing out). */
  reset(): void {
    this.instances.clear();
    this.log = [];
    this.receivedIds = [];
    this.gaps = [];
    this.lastSampleAt = null;
    this.backplaneUnavailableAt = null;
    this.publish();
  }

  /** Drops instances that stopped reporting; call periodically. */
  expireInstances(): void {
    const cutoff = this.now() - this.instanceExpiryMs;
    let removed = false;
    for (const [key, view] of this.instances) {
      if (view.receivedAt < cutoff) {
        this.instances.delete(key);
        removed = true;
      }
    }
    if (removed) {
      this.publish();
    }
  }

  private applySample(message: StreamMessage): void {
    const sample = parseJson<MetricsSample>(message.data);
    if (!sample || typeof sample.instanceId !== 'string' || typeof sample.timestamp !== 'number') {
      this.addLog(message, 'unreadable sample');
      return;
    }
    if (message.id !== null) {
      const id = Number(message.id);
      if (Number.isSafeInteger(id)) {
        this.receivedIds.push(id);
        if (this.receivedIds.length > this.idCapacity) {
          this.receivedIds.splice(0, this.receivedIds.length - this.idCapacity);
        }
      }
    }

    const existing = this.instances.get(sample.instanceId);
    const history = existing ? existing.history.slice() : [];
    const point: SeriesPoint = {
      t: sample.timestamp / 1000,
      cpuPercent: sample.process.cpuPercent,
      workingSetMiB: sample.process.workingSetBytes / MiB,
      openStreams: sample.streams.open,
      eventsPerSecond: sample.streams.eventsPerSecond,
    };
    // Replayed events can arrive after a reconnect; keep the history in time order, no duplicates.
    const last = history[history.length - 1];
    if (!last || last.t < point.t) {
      history.push(point);
    } else if (!history.some((p) => p.t === point.t)) {
      history.push(point);
      history.sort((a, b) => a.t - b.t);
    }
    const oldest = point.t - this.windowMs / 1000;
    while (history.length > 0 && history[0].t < oldest) {
      history.shift();
    }
    this.instances.set(sample.instanceId, { instanceId: sample.instanceId, latest: sample, receivedAt: message.receivedAt, history });
    this.lastSampleAt = message.receivedAt;

    const cpu = sample.process.cpuPercent === null ? 'n/a' : `${sample.process.cpuPercent.toFixed(1)} %`;
    this.addLog(
      message,
      `${sample.instanceId} · cpu ${cpu} · ${(sample.process.workingSetBytes / MiB).toFixed(0)} MiB · ${sample.streams.open} streams · ${sample.streams.eventsPerSecond.toFixed(1)} ev/s`,
      sample.timestamp,
    );
  }

  private addLog(message: StreamMessage, summary: string, time: number = message.receivedAt): void {
    this.seq += 1;
    this.log.push({ seq: this.seq, type: message.type, id: message.id, receivedAt: message.receivedAt, time, summary });
    if (this.log.length > this.logCapacity) {
      this.log.splice(0, this.log.length - this.logCapacity);
    }
  }

  private publish(): void {
    if (this.publishDelayMs <= 0) {
      this.flush();
    } else if (this.publishTimer === null) {
      this.publishTimer = setTimeout(() => this.flush(), this.publishDelayMs);
    }
  }

  private flush(): void {
    if (this.publishTimer !== null) {
      clearTimeout(this.publishTimer);
      this.publishTimer = null;
    }
    this.snapshot = this.buildSnapshot(this.snapshot.version + 1);
    for (const listener of this.listeners) {
      listener();
    }
  }

  private buildSnapshot(version: number): DashboardSnapshot {
    return {
      version,
      instances: [...this.instances.values()].sort((a, b) => a.instanceId.localeCompare(b.instanceId)),
      log: this.log.slice(),
      receivedIds: this.receivedIds.slice(),
      gaps: this.gaps.slice(),
      lastSampleAt: this.lastSampleAt,
      backplaneUnavailableAt: this.backplaneUnavailableAt,
    };
  }
}

function describeGap(gap: GapData | null): string {
  if (!gap) {
    return 'events were missed';
  }
  if (gap.reason === 'lagging') {
    return `fell behind: skipped ${gap.skipped ?? 'some'} older events; newest from #${gap.firstAvailableId ?? gap.latestId}`;
  }
  if (gap.lastEventId === 0) {
    // The page asked for everything held (resume after 0): a backfill, nothing was missed.
    return gap.firstAvailableId === null ? 'no history held yet; live from here' : `history from #${gap.firstAvailableId}, then live`;
  }
  return gap.firstAvailableId === null
    ? `events after #${gap.lastEventId} are not held (new process or too old); continuing after #${gap.latestId}`
    : `events after #${gap.lastEventId} are not held (new process or too old); resuming from #${gap.firstAvailableId}`;
}

function parseJson<T>(text: string): T | null {
  try {
    return JSON.parse(text) as T;
  } catch {
    return null;
  }
}

function truncate(text: string, length: number): string {
  return text.length <= length ? text : `${text.slice(0, length - 1)}…`;
}
