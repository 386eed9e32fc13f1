// A stand-in for the browser's EventSource (installed with vi.stubGlobal): records every
// instance and lets a test open, feed, break and inspect it.

type Listener = (event: MessageEvent<string>) => void;

export class FakeEventSource {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSED = 2;
  static instances: FakeEventSource[] = [];

  readonly url: string;
  readonly withCredentials = false;
  readyState = FakeEventSource.CONNECTING;
  onopen: ((event: Event) => void) | null = null;
  onerror: ((event: Event) => void) | null = null;
  onmessage: Listener | null = null;
  private readonly listeners = new Map<string, Set<Listener>>();
  private lastEventId = '';

  constructor(url: string | URL) {
    this.url = String(url);
    FakeEventSource.instances.push(this);
  }

  static reset(): void {
    FakeEventSource.instances = [];
  }

  /** Instances not closed yet. */
  static open(): FakeEventSource[] {
    return FakeEventSource.instances.filter((s) => s.readyState !== FakeEventSource.CLOSED);
  }

  static latest(): FakeEventSource {
    const latest = FakeEventSource.instances[FakeEventSource.instances.length - 1];
    if (!latest) {
      throw new Error('No EventSource was created.');
    }
    return latest;
  }

  get query(): URLSearchParams {
    return new URL(this.url, 'https://dashboard.test').searchParams;
  }

  addEventListener(type: string, listener: Listener): void {
    let set = this.listeners.get(type);
    if (!set) {
      set = new Set();
      this.listeners.set(type, set);
    }
    set.add(listener);
  }

  removeEventListener(type: string, listener: Listener): void {
    this.listeners.get(type)?.delete(listener);
  }

  close(): void {
    this.readyState = FakeEventSource.CLOSED;
  }

  // Test helpers: what a server would make the browser do.

  simulateOpen(): void {
    this.readyState = FakeEventSource.OPEN;
    this.onopen?.(new Event('open'));
  }

  emit(type: string, data: unknown, id?: string): void {
    if (this.readyState === FakeEventSource.CLOSED) {
      return;
    }
    if (id !== undefined) {
      this.lastEventId = id;
    }
    const event = new MessageEvent<string>(type, {
      data: typeof data === 'string' ? data : JSON.stringify(data),
      lastEventId: this.lastEventId,
    });
    for (const listener of this.listeners.get(type) ?? []) {
      listener(event);
    }
    if (type === 'message') {
      this.onmessage?.(event);
    }
  }

  /** A network error (the browser would retry: CONNECTING) or a failed connection (CLOSED). */
  simulateError(closedForGood: boolean): void {
    this.readyState = closedForGood ? FakeEventSource.CLOSED : FakeEventSource.CONNECTING;
    this.onerror?.(new Event('error'));
  }
}

/** A metrics event payload as Metrics.Api serializes it. */
export function sample(instanceId = 'a1b2c3d4', overrides: { cpu?: number; open?: number; users?: number; eps?: number; ws?: number } = {}) {
  return {
    timestamp: Date.now(),
    instanceId,
    process: {
      cpuPercent: overrides.cpu ?? 12.5,
      workingSetBytes: overrides.ws ?? 150 * 1024 * 1024,
      gcHeapBytes: 20 * 1024 * 1024,
      allocatedBytes: 1_000_000,
      threadPoolQueueLength: 0,
      threadPoolThreads: 4,
    },
    host: { source: 'proc', cpuPercent: 30, cpuLimitCores: 2, memoryUsedBytes: 4 * 1024 ** 3, memoryLimitBytes: 24 * 1024 ** 3 },
    streams: { open: overrides.open ?? 3, users: overrides.users ?? 2, eventsPerSecond: overrides.eps ?? 3 },
  };
}
