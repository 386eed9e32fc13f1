import { describe, expect, it, vi } from 'vitest';
import type { StreamMessage } from '../api/types';
import { sample } from '../test/fakeEventSource';
import { DashboardStore } from './dashboardStore';

let now = 1_000_000;

function message(type: string, data: unknown, id: string | null = null): StreamMessage {
  return { type, id, data: typeof data === 'string' ? data : JSON.stringify(data), receivedAt: now };
}

function metrics(instanceId: string, id: string, timestamp: number, cpu = 10) {
  return message('metrics', { ...sample(instanceId, { cpu }), timestamp }, id);
}

describe('DashboardStore', () => {
  it('keeps the latest sample and history per instance, sorted by instance id', () => {
    const store = new DashboardStore({ now: () => now });
    store.apply(metrics('b', '1', 1000, 5));
    store.apply(metrics('a', '2', 1000, 7));
    store.apply(metrics('b', '3', 2000, 9));
    const { instances, receivedIds } = store.getSnapshot();
    expect(instances.map((i) => i.instanceId)).toEqual(['a', 'b']);
    expect(instances[1].latest.process.cpuPercent).toBe(9);
    expect(instances[1].history.map((p) => p.t)).toEqual([1, 2]);
    expect(receivedIds).toEqual([1, 2, 3]);
  });

  it('keeps only the configured window of history', () => {
    const store = new DashboardStore({ windowMs: 10_000, now: () => now });
    for (let i = 0; i < 30; i++) {
      store.apply(metrics('a', String(i + 1), i * 1000));
    }
    const history = store.getSnapshot().instances[0].history;
    expect(history[0].t).toBe(19);
    expect(history.at(-1)?.t).toBe(29);
  });

  it('ignores a replayed sample it already has and keeps time order', () => {
    const store = new DashboardStore({ now: () => now });
    store.apply(metrics('a', '1', 1000));
    store.apply(metrics('a', '3', 3000));
    store.apply(metrics('a', '2', 2000));
    store.apply(metrics('a', '3', 3000));
    expect(store.getSnapshot().instances[0].history.map((p) => p.t)).toEqual([1, 2, 3]);
  });

  it('bounds the log and logs gaps and goodbyes readably', () => {
    const store = new DashboardStore({ logCapacity: 3, now: () => now });
    store.apply(message('ready', { instanceId: 'a', heartbeatSeconds: 15 }));
    store.apply(message('gap', { lastEventId: 5, firstAvailableId: 9, latestId: 12 }));
    store.apply(message('ping', ''));
    store.apply(message('shutdown', { reason: 'shutdown', instanceId: 'a' }));
    store.apply(metrics('a', '9', 1000));
    const { log, gaps } = store.getSnapshot();
    expect(log.map((e) => e.type)).toEqual(['gap', 'shutdown', 'metrics']);
    expect(log[0].summary).toBe('events after #5 are not held (new process or too old); resuming from #9');
    expect(log[1].summary).toBe('a ended the stream (shutdown)');
    expect(gaps).toEqual([{ lastEventId: 5, firstAvailableId: 9, latestId: 12 }]);
  });

  it('says how many samples a lagging stream skipped', () => {
    const store = new DashboardStore({ now: () => now });
    store.apply(message('gap', { reason: 'lagging', lastEventId: 5, firstAvailableId: 140, latestId: 140, skipped: 134 }));
    expect(store.getSnapshot().log[0].summary).toBe('fell behind: skipped 134 older events; newest from #140');
  });

  it('says when the replica cannot reach the shared event log, and when it can again', () => {
    const store = new DashboardStore({ now: () => now });
    store.apply(message('backplane', { status: 'unavailable', instanceId: 'metrics-api-1' }));
    expect(store.getSnapshot().backplaneUnavailableAt).toBe('metrics-api-1');
    store.apply(message('backplane', { status: 'available', instanceId: 'metrics-api-1' }));
    expect(store.getSnapshot().backplaneUnavailableAt).toBeNull();
    expect(store.getSnapshot().log.map((e) => e.summary)).toEqual([
      'metrics-api-1 cannot reach the shared event log: its own samples only',
      'metrics-api-1 reaches the shared event log again',
    ]);
  });

  it('drops instances that stopped reporting', () => {
    const store = new DashboardStore({ instanceExpiryMs: 30_000, now: () => now });
    store.apply(metrics('a', '1', 1000));
    now += 31_000;
    store.apply(metrics('b', '2', 2000));
    store.expireInstances();
    expect(store.getSnapshot().instances.map((i) => i.instanceId)).toEqual(['b']);
  });

  it('logs unreadable data instead of throwing', () => {
    const store = new DashboardStore({ now: () => now });
    store.apply(message('metrics', 'not json', '1'));
    expect(store.getSnapshot().log[0].summary).toBe('unreadable sample');
    expect(store.getSnapshot().instances).toEqual([]);
  });

  it('calls the resume-after-0 gap of a first stream a backfill, not a loss', () => {
    const store = new DashboardStore({ now: () => now });
    store.apply(message('gap', { lastEventId: 0, firstAvailableId: 1700000000000001, latestId: 1700000000000300 }));
    store.apply(message('gap', { lastEventId: 0, firstAvailableId: null, latestId: 1700000000000000 }));
    expect(store.getSnapshot().log.map((e) => e.summary)).toEqual([
      'history from #1700000000000001, then live',
      'no history held yet; live from here',
    ]);
  });

  it('publishes a burst of events once when batching', async () => {
    vi.useFakeTimers();
    try {
      const store = new DashboardStore({ publishDelayMs: 100, now: () => now });
      const listener = vi.fn();
      store.subscribe(listener);
      for (let i = 1; i <= 300; i++) {
        store.apply(metrics('a', String(i), i * 1000));
      }
      expect(listener).not.toHaveBeenCalled();
      expect(store.getSnapshot().receivedIds).toEqual([]);
      await vi.advanceTimersByTimeAsync(100);
      expect(listener).toHaveBeenCalledTimes(1);
      expect(store.getSnapshot().receivedIds).toHaveLength(300);
    } finally {
      vi.useRealTimers();
    }
  });
});
