// The self-healing stream: one connection at a time, reconnects with backoff and the last event
// id, reacts to the service's control events, pauses while the tab stays hidden. Framework-free;
// useEventStream adapts it to React.

import type { ReadyData, StreamMessage } from '../api/types';
import { backoffDelay, defaultBackoff, jitterBetween, type BackoffOptions } from './backoff';
import { detectProtocol } from './protocol';
import type { StreamTransport, TransportError, TransportSink } from './transports';

export type StreamStatus = 'connecting' | 'live' | 'reconnecting' | 'stopped';

/** Why a stopped stream stopped. */
export type StopReason = 'signed-out' | 'hidden' | 'stopped';

export interface StreamState {
  status: StreamStatus;
  stopReason: StopReason | null;
  /** The id of the newest event received (what a reconnect resumes after). */
  lastEventId: string | null;
  /** When the newest event (of any type, pings included) arrived, ms since epoch. */
  lastEventAt: number | null;
  /** The negotiated HTTP version ("h2", "http/1.1"), from the Performance API. */
  protocol: string | null;
  /** The replica serving the current stream (from `ready`). */
  instanceId: string | null;
  /** Failed attempts since the stream last delivered data. */
  failures: number;
  /** When the next attempt starts, while one is scheduled. */
  nextAttemptAt: number | null;
  /** The last problem, for a degraded banner; cleared when data flows again. */
  error: string | null;
  /** Connection attempts so far (ticket + stream), the first one included. */
  connections: number;
}

/** The state of a stream that has not started (or was stopped): nothing received, no attempt made. */
export function stoppedState(): StreamState {
  return {
    status: 'stopped',
    stopReason: 'stopped',
    lastEventId: null,
    lastEventAt: null,
    protocol: null,
    instanceId: null,
    failures: 0,
    nextAttemptAt: null,
    error: null,
    connections: 0,
  };
}

export interface StreamClientOptions {
  transport: StreamTransport;
  onMessage?: (message: StreamMessage) => void;
  backoff?: BackoffOptions;
  /** A tab hidden for this long closes its stream; it reopens (and catches up) on return. */
  hiddenPauseMs?: number;
  /** The service's shutdown `retry` is 1–5 s; EventSource hides it, so the client draws its own. */
  shutdownRetryMs?: readonly [number, number];
  /** No event for this long (when the service gave no heartbeat interval) means a dead connection. */
  staleAfterMs?: number;
  random?: () => number;
  now?: () => number;
  getProtocol?: () => string | null;
  /**
   * The resume point of the very first connection, before any event arrived. "0" asks the service
   * for everything it still holds (a few minutes), which fills the charts at once.
   */
  initialLastEventId?: string | null;
  /** Where visibility comes from; null for none (e.g. a worker). */
  document?: Pick<Document, 'visibilityState' | 'addEventListener' | 'removeEventListener'> | null;
  /** Where `online` comes from; null for none. */
  window?: Pick<Window, 'addEventListener' | 'removeEventListener'> | null;
}

type Listener = (state: StreamState) => void;

export class StreamClient {
  private readonly options: Required<Omit<StreamClientOptions, 'onMessage' | 'document' | 'window' | 'initialLastEventId'>> &
    Pick<StreamClientOptions, 'onMessage'>;
  private readonly initialLastEventId: string | null;
  private readonly doc: StreamClientOptions['document'];
  private readonly win: StreamClientOptions['window'];
  private readonly listeners = new Set<Listener>();
  private state: StreamState;
  private connection: AbortController | null = null;
  private attemptTimer: ReturnType<typeof setTimeout> | null = null;
  private hiddenTimer: ReturnType<typeof setTimeout> | null = null;
  private watchdog: ReturnType<typeof setInterval> | null = null;
  private started = false;
  private disposed = false;
  private everLive = false;
  private heartbeatMs: number | null = null;

  constructor(options: StreamClientOptions) {
    this.options = {
      transport: options.transport,
      onMessage: options.onMessage,
      backoff: options.backoff ?? defaultBackoff,
      hiddenPauseMs: options.hiddenPauseMs ?? 30_000,
      shutdownRetryMs: options.shutdownRetryMs ?? [1000, 5000],
      staleAfterMs: options.staleAfterMs ?? 45_000,
      random: options.random ?? Math.random,
      now: options.now ?? Date.now,
      getProtocol: options.getProtocol ?? (() => detectProtocol()),
    };
    this.initialLastEventId = options.initialLastEventId ?? null;
    this.doc = options.document === undefined ? globalThis.document : options.document;
    this.win = options.window === undefined ? globalThis.window : options.window;
    this.state = stoppedState();
  }

  getState = (): StreamState => this.state;

  subscribe = (listener: Listener): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  /**
   * Starts streaming. The first attempt is deferred by a macrotask, so a client that React Strict
   * Mode mounts, unmounts and mounts again is disposed before it fetches a ticket or opens anything.
   */
  start(): void {
    if (this.started || this.disposed) {
      return;
    }
    this.started = true;
    this.doc?.addEventListener('visibilitychange', this.onVisibilityChange);
    this.win?.addEventListener('online', this.onOnline);
    this.watchdog = setInterval(this.checkStale, 5000);
    this.update({ status: 'connecting', stopReason: null });
    if (this.doc?.visibilityState === 'hidden') {
      this.startHiddenTimer();
    }
    this.schedule(0);
  }

  /** Stops for good (until start is called on a new client). */
  dispose(): void {
    if (this.disposed) {
      return;
    }
    this.disposed = true;
    this.doc?.removeEventListener('visibilitychange', this.onVisibilityChange);
    this.win?.removeEventListener('online', this.onOnline);
    if (this.watchdog !== null) {
      clearInterval(this.watchdog);
      this.watchdog = null;
    }
    this.clearHiddenTimer();
    this.closeConnection();
    this.clearSchedule();
    this.update({ status: 'stopped', stopReason: 'stopped', nextAttemptAt: null });
    this.listeners.clear();
  }

  /** Tries again now (e.g. after signing in again, or from a "retry now" button). */
  reconnectNow(): void {
    if (this.disposed || !this.started) {
      return;
    }
    this.closeConnection();
    this.update({ status: this.everLive ? 'reconnecting' : 'connecting', stopReason: null });
    this.schedule(0);
  }

  private connect(): void {
    if (this.disposed) {
      return;
    }
    this.closeConnection();
    const controller = new AbortController();
    this.connection = controller;
    this.update({ connections: this.state.connections + 1, nextAttemptAt: null });
    const sink: TransportSink = {
      open: () => this.onOpen(controller),
      message: (message) => this.onMessage(controller, message),
      fail: (error) => this.onFailure(controller, error),
    };
    this.options.transport.connect(this.state.lastEventId ?? this.initialLastEventId, sink, controller.signal);
  }

  private onOpen(controller: AbortController): void {
    if (controller !== this.connection) {
      return;
    }
    this.everLive = true;
    this.update({ status: 'live', stopReason: null, protocol: this.options.getProtocol() ?? this.state.protocol });
  }

  private onMessage(controller: AbortController, message: StreamMessage): void {
    if (controller !== this.connection) {
      return;
    }
    const changes: Partial<StreamState> = { lastEventAt: message.receivedAt };
    if (message.id) {
      changes.lastEventId = message.id;
    }
    if (this.state.status !== 'live') {
      this.everLive = true;
      changes.status = 'live';
      changes.stopReason = null;
    }

    switch (message.type) {
      case 'ready': {
        const ready = parse<ReadyData>(message.data);
        changes.instanceId = ready?.instanceId ?? null;
        this.heartbeatMs = ready?.heartbeatSeconds ? ready.heartbeatSeconds * 1000 : null;
        changes.protocol = this.options.getProtocol() ?? this.state.protocol;
        break;
      }
      case 'metrics':
      case 'gap':
        // Data flows: the stream is healthy again, so the next failure starts a fresh backoff.
        changes.failures = 0;
        changes.error = null;
        break;
      default:
        break;
    }
    this.update(changes);
    this.options.onMessage?.(message);

    switch (message.type) {
      case 'reauth':
        // The session behind the ticket is ending: swap to a new ticket at once.
        this.closeConnection();
        this.update({ status: 'reconnecting' });
        this.schedule(0);
        break;
      case 'shutdown':
        // The replica is stopping: come back after a jittered pause (to another replica).
        this.closeConnection();
        this.update({ status: 'reconnecting' });
        this.schedule(jitterBetween(this.options.shutdownRetryMs[0], this.options.shutdownRetryMs[1], this.options.random));
        break;
      case 'reconnect':
        // The stream reached its maximum age: reconnect soon, a little apart from the others.
        this.closeConnection();
        this.update({ status: 'reconnecting' });
        this.schedule(jitterBetween(0, 1000, this.options.random));
        break;
      default:
        break;
    }
  }

  private onFailure(controller: AbortController, error: TransportError): void {
    if (controller !== this.connection) {
      return;
    }
    this.closeConnection();
    if (error.kind === 'unauthorized') {
      this.update({ status: 'stopped', stopReason: 'signed-out', error: error.message, nextAttemptAt: null });
      return;
    }
    const failures = this.state.failures + 1;
    this.update({ status: this.everLive ? 'reconnecting' : 'connecting', failures, error: error.message });
    this.schedule(backoffDelay(failures, this.options.backoff, this.options.random));
  }

  private readonly onVisibilityChange = (): void => {
    if (this.doc?.visibilityState === 'hidden') {
      this.startHiddenTimer();
      return;
    }
    this.clearHiddenTimer();
    if (this.state.status === 'stopped' && this.state.stopReason === 'hidden') {
      // Back from a pause: reopen at once and resume after the last id (the service replays).
      this.update({ status: 'reconnecting', stopReason: null });
      this.schedule(0);
    }
  };

  private readonly onOnline = (): void => {
    if (this.attemptTimer !== null && this.state.status !== 'stopped') {
      this.schedule(0);
    }
  };

  private readonly checkStale = (): void => {
    if (this.state.status !== 'live' || this.state.lastEventAt === null) {
      return;
    }
    const limit = this.heartbeatMs ? Math.max(3 * this.heartbeatMs, 5000) : this.options.staleAfterMs;
    if (this.options.now() - this.state.lastEventAt > limit && this.connection) {
      // No event, not even a heartbeat: the connection is dead without having said so.
      this.onFailure(this.connection, { kind: 'interrupted', message: 'The stream went silent.' });
    }
  };

  private startHiddenTimer(): void {
    this.clearHiddenTimer();
    this.hiddenTimer = setTimeout(() => {
      this.hiddenTimer = null;
      if (this.disposed || this.state.status === 'stopped') {
        return;
      }
      this.closeConnection();
      this.clearSchedule();
      this.update({ status: 'stopped', stopReason: 'hidden', nextAttemptAt: null });
    }, this.options.hiddenPauseMs);
  }

  private clearHiddenTimer(): void {
    if (this.hiddenTimer !== null) {
      clearTimeout(this.hiddenTimer);
      this.hiddenTimer = null;
    }
  }

  private schedule(delayMs: number): void {
    this.clearSchedule();
    this.update({ nextAttemptAt: delayMs > 0 ? this.options.now() + delayMs : null });
    this.attemptTimer = setTimeout(() => {
      this.attemptTimer = null;
      this.connect();
    }, delayMs);
  }

  private clearSchedule(): void {
    if (this.attemptTimer !== null) {
      clearTimeout(this.attemptTimer);
      this.attemptTimer = null;
    }
  }

  private closeConnection(): void {
    const connection = this.connection;
    this.connection = null;
    connection?.abort();
  }

  private update(changes: Partial<StreamState>): void {
    let changed = false;
    for (const key of Object.keys(changes) as (keyof StreamState)[]) {
      if (this.state[key] !== changes[key]) {
        changed = true;
        break;
      }
    }
    if (!changed) {
      return;
    }
    this.state = { ...this.state, ...changes };
    for (const listener of this.listeners) {
      listener(this.state);
    }
  }
}

function parse<T>(data: string): T | null {
  try {
    return JSON.parse(data) as T;
  } catch {
    return null;
  }
}
