import { act, renderHook } from '@testing-library/react';
import { StrictMode, type ReactNode } from 'react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BffError } from '../api/bff';
import type { StreamMessage, StreamTicket } from '../api/types';
import { FakeEventSource, sample } from '../test/fakeEventSource';
import { useEventStream, type UseEventStreamOptions } from './useEventStream';

let ticketCount = 0;
const tickets: string[] = [];

function ticketSource(failures: (Error | null)[] = []) {
  return vi.fn(async (signal: AbortSignal): Promise<StreamTicket> => {
    if (signal.aborted) {
      throw new DOMException('aborted', 'AbortError');
    }
    const failure = failures.shift();
    if (failure) {
      throw failure;
    }
    ticketCount += 1;
    const ticket = `ticket-${ticketCount}`;
    tickets.push(ticket);
    return { ticket, expiresAt: new Date(Date.now() + 30_000).toISOString(), sessionExpiresAt: new Date(Date.now() + 900_000).toISOString() };
  });
}

let visibility: DocumentVisibilityState = 'visible';

function setVisibility(state: DocumentVisibilityState) {
  visibility = state;
  document.dispatchEvent(new Event('visibilitychange'));
}

async function flush(ms = 0) {
  await act(async () => {
    await vi.advanceTimersByTimeAsync(ms);
  });
}

function render(overrides: Partial<UseEventStreamOptions> = {}, strict = false) {
  const messages: StreamMessage[] = [];
  const getTicket = ticketSource();
  const options: UseEventStreamOptions = {
    path: '/api/stream/metrics',
    enabled: true,
    getTicket,
    onMessage: (m) => messages.push(m),
    ...overrides,
  };
  const wrapper = strict ? ({ children }: { children: ReactNode }) => <StrictMode>{children}</StrictMode> : undefined;
  const hook = renderHook((props: UseEventStreamOptions) => useEventStream(props), { initialProps: options, wrapper });
  return { ...hook, messages, getTicket: options.getTicket };
}

beforeEach(() => {
  vi.useFakeTimers();
  vi.stubGlobal('EventSource', FakeEventSource);
  FakeEventSource.reset();
  ticketCount = 0;
  tickets.length = 0;
  visibility = 'visible';
  vi.spyOn(document, 'visibilityState', 'get').mockImplementation(() => visibility);
  vi.spyOn(Math, 'random').mockReturnValue(0.5);
});

afterEach(() => {
  vi.useRealTimers();
});

describe('useEventStream with EventSource and tickets', () => {
  it('gets a ticket, opens one EventSource with it and goes live', async () => {
    const { result, getTicket } = render();
    expect(result.current.status).toBe('connecting');
    await flush();

    expect(getTicket).toHaveBeenCalledTimes(1);
    const source = FakeEventSource.latest();
    expect(source.url).toBe('/api/stream/metrics?ticket=ticket-1');
    expect(source.query.has('lastEventId')).toBe(false);

    act(() => source.simulateOpen());
    expect(result.current.status).toBe('live');
  });

  it('asks for the held history on the first connection only', async () => {
    const { result } = render({ initialLastEventId: '0' });
    await flush();
    const first = FakeEventSource.latest();
    expect(first.query.get('lastEventId')).toBe('0');
    expect(result.current.lastEventId).toBeNull();
    act(() => {
      first.simulateOpen();
      first.emit('gap', { lastEventId: 0, firstAvailableId: 101, latestId: 102 });
      first.emit('metrics', sample(), '101');
      first.emit('metrics', sample(), '102');
      first.simulateError(true);
    });
    await flush(1000);
    expect(FakeEventSource.latest().query.get('lastEventId')).toBe('102');
  });

  it('handles ready, metrics and ping, tracking the last id and event time', async () => {
    const { result, messages } = render();
    await flush();
    const source = FakeEventSource.latest();
    act(() => {
      source.simulateOpen();
      source.emit('ready', { instanceId: 'a1b2c3d4', heartbeatSeconds: 15 });
      source.emit('metrics', sample(), '1700000000000001');
      source.emit('ping', '');
    });

    expect(messages.map((m) => [m.type, m.id])).toEqual([
      ['ready', null],
      ['metrics', '1700000000000001'],
      ['ping', null],
    ]);
    expect(result.current.lastEventId).toBe('1700000000000001');
    expect(result.current.instanceId).toBe('a1b2c3d4');
    expect(result.current.lastEventAt).toBe(Date.now());
  });

  it('opens exactly one stream under React Strict Mode', async () => {
    const { getTicket, result } = render({}, true);
    await flush();
    expect(FakeEventSource.instances).toHaveLength(1);
    expect(getTicket).toHaveBeenCalledTimes(1);
    act(() => FakeEventSource.latest().simulateOpen());
    expect(result.current.status).toBe('live');
  });

  it('closes the stream on unmount', async () => {
    const { unmount } = render();
    await flush();
    const source = FakeEventSource.latest();
    unmount();
    expect(source.readyState).toBe(FakeEventSource.CLOSED);
    await flush(60_000);
    expect(FakeEventSource.instances).toHaveLength(1);
  });

  it('reconnects with a new ticket and lastEventId when the EventSource closes for good', async () => {
    const { result, getTicket } = render();
    await flush();
    const first = FakeEventSource.latest();
    act(() => {
      first.simulateOpen();
      first.emit('metrics', sample(), '41');
      first.emit('metrics', sample(), '42');
      first.simulateError(true); // e.g. 401, 502, or the wrong content type
    });
    expect(result.current.status).toBe('reconnecting');
    expect(first.readyState).toBe(FakeEventSource.CLOSED);

    // First retry: backoff ceiling 1 s, equal jitter with random 0.5 -> 750 ms.
    await flush(749);
    expect(FakeEventSource.instances).toHaveLength(1);
    await flush(1);
    expect(getTicket).toHaveBeenCalledTimes(2);
    const second = FakeEventSource.latest();
    expect(second.query.get('ticket')).toBe('ticket-2');
    expect(second.query.get('lastEventId')).toBe('42');
    expect(FakeEventSource.open()).toEqual([second]);
  });

  it('does not let EventSource retry with a used ticket after a network error', async () => {
    const { result } = render();
    await flush();
    const first = FakeEventSource.latest();
    act(() => {
      first.simulateOpen();
      first.emit('metrics', sample(), '7');
      first.simulateError(false); // the browser would reconnect to the same URL, same ticket
    });
    expect(first.readyState).toBe(FakeEventSource.CLOSED);
    expect(result.current.status).toBe('reconnecting');
    await flush(1000);
    const second = FakeEventSource.latest();
    expect(second).not.toBe(first);
    expect(second.query.get('ticket')).toBe('ticket-2');
    expect(second.query.get('lastEventId')).toBe('7');
  });

  it('backs off exponentially with jitter while the metrics service is down, then resets', async () => {
    const down = () => new BffError(502, { title: 'Metrics API unavailable' }, 'down');
    const getTicket = ticketSource([down(), down(), down(), down()]);
    const { result } = render({ getTicket });
    await flush();
    expect(result.current.status).toBe('connecting');
    expect(result.current.error).toBe('Metrics API unavailable');
    expect(result.current.failures).toBe(1);

    // Delays with random = 0.5: 750, 1500, 3000, 6000 ms.
    for (const [index, delay] of [750, 1500, 3000].entries()) {
      expect(result.current.nextAttemptAt).toBe(Date.now() + delay);
      await flush(delay);
      expect(getTicket).toHaveBeenCalledTimes(index + 2);
    }
    expect(result.current.failures).toBe(4);
    await flush(6000);
    expect(getTicket).toHaveBeenCalledTimes(5);
    const source = FakeEventSource.latest();
    act(() => {
      source.simulateOpen();
      source.emit('metrics', sample(), '1');
    });
    expect(result.current.status).toBe('live');
    expect(result.current.failures).toBe(0);
    expect(result.current.error).toBeNull();
  });

  it('uses full jitter bounds: the delay stays within [ceiling/2, ceiling]', async () => {
    const random = vi.spyOn(Math, 'random').mockReturnValue(0.99);
    const getTicket = ticketSource([new Error('network'), new Error('network')]);
    const { result } = render({ getTicket });
    await flush();
    expect(result.current.nextAttemptAt! - Date.now()).toBe(995);
    random.mockReturnValue(0);
    await flush(995);
    expect(result.current.nextAttemptAt! - Date.now()).toBe(1000);
  });

  it('stops as signed out when the ticket request answers 401', async () => {
    const getTicket = ticketSource([new BffError(401, null, 'unauthorized')]);
    const { result } = render({ getTicket });
    await flush();
    expect(result.current.status).toBe('stopped');
    expect(result.current.stopReason).toBe('signed-out');
    await flush(120_000);
    expect(getTicket).toHaveBeenCalledTimes(1);
    expect(FakeEventSource.instances).toHaveLength(0);
  });

  it('swaps to a new ticket at once on reauth, resuming after the last id', async () => {
    const { result, messages } = render();
    await flush();
    const first = FakeEventSource.latest();
    act(() => {
      first.simulateOpen();
      first.emit('metrics', sample(), '100');
      first.emit('reauth', { reason: 'token_expired', instanceId: 'a1b2c3d4' });
    });
    expect(messages.at(-1)?.type).toBe('reauth');
    expect(first.readyState).toBe(FakeEventSource.CLOSED);
    expect(result.current.status).toBe('reconnecting');
    await flush();
    const second = FakeEventSource.latest();
    expect(second.query.get('ticket')).toBe('ticket-2');
    expect(second.query.get('lastEventId')).toBe('100');
  });

  it('comes back after a jittered pause on shutdown', async () => {
    render({ shutdownRetryMs: [1000, 5000] });
    await flush();
    const first = FakeEventSource.latest();
    act(() => {
      first.simulateOpen();
      first.emit('metrics', sample(), '5');
      first.emit('shutdown', { reason: 'shutdown', instanceId: 'a1b2c3d4' });
    });
    expect(first.readyState).toBe(FakeEventSource.CLOSED);
    await flush(2999); // 1000 + 0.5 * 4000
    expect(FakeEventSource.instances).toHaveLength(1);
    await flush(1);
    expect(FakeEventSource.latest().query.get('lastEventId')).toBe('5');
  });

  it('reports a gap and keeps going', async () => {
    const { messages, result } = render();
    await flush();
    const source = FakeEventSource.latest();
    act(() => {
      source.simulateOpen();
      source.emit('gap', { lastEventId: 5, firstAvailableId: 1700000000000001, latestId: 1700000000000003 });
      source.emit('metrics', sample(), '1700000000000001');
    });
    expect(messages.map((m) => m.type)).toEqual(['gap', 'metrics']);
    expect(result.current.status).toBe('live');
    expect(result.current.lastEventId).toBe('1700000000000001');
  });

  it('pauses when the tab stays hidden and resumes on return', async () => {
    const { result } = render({ hiddenPauseMs: 30_000 });
    await flush();
    const first = FakeEventSource.latest();
    act(() => {
      first.simulateOpen();
      first.emit('metrics', sample(), '9');
    });

    act(() => setVisibility('hidden'));
    await flush(29_000);
    act(() => setVisibility('visible')); // back in time: nothing happens
    expect(first.readyState).toBe(FakeEventSource.OPEN);
    act(() => first.emit('ping', ''));

    act(() => setVisibility('hidden'));
    await flush(30_000);
    expect(first.readyState).toBe(FakeEventSource.CLOSED);
    expect(result.current.status).toBe('stopped');
    expect(result.current.stopReason).toBe('hidden');
    await flush(120_000);
    expect(FakeEventSource.instances).toHaveLength(1);

    act(() => setVisibility('visible'));
    expect(result.current.status).toBe('reconnecting');
    await flush();
    const second = FakeEventSource.latest();
    expect(second).not.toBe(first);
    expect(second.query.get('lastEventId')).toBe('9');
  });

  it('treats a silent stream as dead (no heartbeat for three intervals)', async () => {
    render();
    await flush();
    const first = FakeEventSource.latest();
    act(() => {
      first.simulateOpen();
      first.emit('ready', { instanceId: 'a', heartbeatSeconds: 2 });
      first.emit('metrics', sample(), '3');
    });
    await flush(10_000);
    expect(first.readyState).toBe(FakeEventSource.CLOSED);
    await flush(1000);
    expect(FakeEventSource.latest().query.get('lastEventId')).toBe('3');
  });

  it('reports the negotiated protocol from the Performance API', async () => {
    vi.spyOn(performance, 'getEntriesByType').mockImplementation((type: string) =>
      type === 'resource'
        ? ([{ name: `${location.origin}/bff/stream-ticket`, nextHopProtocol: 'h2' }] as unknown as PerformanceEntryList)
        : ([{ nextHopProtocol: 'http/1.1' }] as unknown as PerformanceEntryList),
    );
    const { result } = render();
    await flush();
    act(() => FakeEventSource.latest().simulateOpen());
    expect(result.current.protocol).toBe('h2');
  });

  it('falls back to the navigation entry for the protocol', async () => {
    vi.spyOn(performance, 'getEntriesByType').mockImplementation((type: string) =>
      type === 'navigation' ? ([{ nextHopProtocol: 'http/1.1' }] as unknown as PerformanceEntryList) : [],
    );
    const { result } = render();
    await flush();
    act(() => FakeEventSource.latest().simulateOpen());
    expect(result.current.protocol).toBe('http/1.1');
  });

  it('closes the stream when disabled and reports it stopped, keeping the last id', async () => {
    const { result, rerender } = render();
    await flush();
    const source = FakeEventSource.latest();
    act(() => {
      source.simulateOpen();
      source.emit('metrics', sample(), '12');
    });
    rerender({ path: '/api/stream/metrics', enabled: false, getTicket: ticketSource(), onMessage: () => undefined });
    expect(source.readyState).toBe(FakeEventSource.CLOSED);
    expect(result.current.status).toBe('stopped');
    expect(result.current.stopReason).toBe('stopped');
    expect(result.current.lastEventId).toBe('12');
    await flush(60_000);
    expect(FakeEventSource.instances).toHaveLength(1);
  });

  it('uses the newest callbacks without reopening the stream', async () => {
    const { rerender, messages } = render();
    await flush();
    const first = FakeEventSource.latest();
    const later: StreamMessage[] = [];
    const laterTicket = vi.fn(async (): Promise<StreamTicket> => ({ ticket: 'later', expiresAt: '', sessionExpiresAt: '' }));
    rerender({ path: '/api/stream/metrics', enabled: true, getTicket: laterTicket, onMessage: (m) => later.push(m) });
    act(() => {
      first.simulateOpen();
      first.emit('metrics', sample(), '1');
      first.simulateError(true);
    });
    expect(messages).toEqual([]);
    expect(later.map((m) => m.id)).toEqual(['1']);
    await flush(1000);
    expect(FakeEventSource.instances).toHaveLength(2);
    expect(laterTicket).toHaveBeenCalledTimes(1);
    expect(FakeEventSource.latest().query.get('ticket')).toBe('later');
  });

  it('retries at once on reconnectNow instead of waiting for the backoff', async () => {
    const getTicket = ticketSource([new Error('network')]);
    const { result, rerender } = render({ getTicket });
    await flush();
    expect(result.current.nextAttemptAt).toBe(Date.now() + 750);
    const reconnectNow = result.current.reconnectNow;
    rerender({ path: '/api/stream/metrics', enabled: true, getTicket, onMessage: () => undefined });
    expect(result.current.reconnectNow).toBe(reconnectNow);

    act(() => reconnectNow());
    await flush();
    expect(getTicket).toHaveBeenCalledTimes(2);
    expect(FakeEventSource.instances).toHaveLength(1);
    expect(result.current.nextAttemptAt).toBeNull();
  });

  it('stays closed while disabled and opens when enabled', async () => {
    const { result, rerender } = render({ enabled: false });
    await flush(5000);
    expect(FakeEventSource.instances).toHaveLength(0);
    expect(result.current.status).toBe('stopped');
    rerender({
      path: '/api/stream/metrics',
      enabled: true,
      getTicket: ticketSource(),
      onMessage: () => undefined,
    });
    await flush();
    expect(FakeEventSource.instances).toHaveLength(1);
  });
});
