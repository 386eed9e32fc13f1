import { act, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { StrictMode } from 'react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { App } from './App';
import { forgetAntiforgeryToken } from './api/bff';
import type { BffUser } from './api/types';
import { FakeEventSource, sample } from './test/fakeEventSource';

// uPlot draws on a canvas, which jsdom does not have: count charts instead of drawing them.
vi.mock('uplot', () => {
  class FakePlot {
    static instances = 0;
    static join = (tables: unknown[][]) => tables[0];
    constructor() {
      FakePlot.instances += 1;
    }
    setData() {}
    setSize() {}
    destroy() {}
  }
  return { default: FakePlot };
});

interface Recorded {
  method: string;
  url: string;
  headers: Headers;
  body: string | null;
}

function installServer(initialUser: BffUser) {
  let user = initialUser;
  const requests: Recorded[] = [];
  const json = (body: unknown, status = 200) =>
    new Response(JSON.stringify(body), { status, headers: { 'Content-Type': status >= 400 ? 'application/problem+json' : 'application/json' } });
  const fetchMock = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const request: Recorded = {
      method: init?.method ?? 'GET',
      url: String(input),
      headers: new Headers(init?.headers),
      body: typeof init?.body === 'string' ? init.body : null,
    };
    requests.push(request);
    switch (`${request.method} ${request.url}`) {
      case 'GET /bff/user':
        return json(user);
      case 'GET /bff/antiforgery':
        return json({ requestToken: `af-${user.name ?? 'anonymous'}`, headerName: 'X-XSRF-TOKEN' });
      case 'POST /bff/login': {
        const { userName } = JSON.parse(request.body ?? '{}') as { userName: string };
        user = { isAuthenticated: true, name: userName, signInMode: user.signInMode };
        return json(user);
      }
      case 'POST /bff/stream-ticket':
        if (!user.isAuthenticated) {
          return json({ title: 'Unauthorized', status: 401 }, 401);
        }
        return json({ ticket: 't1', expiresAt: new Date().toISOString(), sessionExpiresAt: new Date().toISOString() });
      default:
        return json({ title: 'Not Found', status: 404 }, 404);
    }
  });
  vi.stubGlobal('fetch', fetchMock);
  return { requests };
}

beforeEach(() => {
  vi.stubGlobal('EventSource', FakeEventSource);
  FakeEventSource.reset();
  forgetAntiforgeryToken();
});

afterEach(() => {
  delete window.__dashboard;
});

describe('App', () => {
  it('offers the development sign-in when signed out, and streams after signing in', async () => {
    const { requests } = installServer({ isAuthenticated: false, name: null, signInMode: 'development' });
    render(
      <StrictMode>
        <App />
      </StrictMode>,
    );

    const input = await screen.findByLabelText('User name');
    fireEvent.change(input, { target: { value: 'ada' } });
    fireEvent.click(screen.getByRole('button', { name: 'Sign in' }));

    await screen.findByTestId('dashboard');
    const login = requests.find((r) => r.url === '/bff/login');
    expect(login?.headers.get('X-XSRF-TOKEN')).toBe('af-anonymous');
    expect(JSON.parse(login?.body ?? '{}')).toEqual({ userName: 'ada' });

    await waitFor(() => expect(FakeEventSource.instances).toHaveLength(1));
    const ticket = requests.find((r) => r.url === '/bff/stream-ticket');
    // Antiforgery tokens belong to a user: a new one after signing in.
    expect(ticket?.headers.get('X-XSRF-TOKEN')).toBe('af-ada');
    // The first stream asks for everything the service still holds (resume after 0) to fill the charts.
    expect(FakeEventSource.latest().url).toBe('/api/stream/metrics?ticket=t1&lastEventId=0');
    expect(screen.getByTestId('user-name').textContent).toBe('ada');
  });

  it('shows live numbers, the connection status and the event log', async () => {
    installServer({ isAuthenticated: true, name: 'grace', signInMode: 'development' });
    render(
      <StrictMode>
        <App />
      </StrictMode>,
    );
    await waitFor(() => expect(FakeEventSource.instances).toHaveLength(1));
    const source = FakeEventSource.latest();

    act(() => {
      source.simulateOpen();
      source.emit('ready', { instanceId: 'a1b2c3d4', heartbeatSeconds: 15 });
      source.emit('metrics', sample('a1b2c3d4', { cpu: 12.5, open: 4, users: 3, eps: 4 }), '1700000000000001');
      source.emit('metrics', sample('e5f6a7b8', { cpu: 7.5, open: 2, users: 1, eps: 2 }), '1700000000000002');
    });

    expect(screen.getByTestId('stream-status').textContent).toContain('Live');
    // The store publishes in batches (every 100 ms), so a replay renders once.
    await waitFor(() => expect(screen.getByTestId('card-cpu-value').textContent).toBe('10.0 %'));
    expect(screen.getByTestId('card-streams-value').textContent).toBe('6');
    expect(screen.getByTestId('card-users-value').textContent).toBe('4');
    expect(screen.getByTestId('card-events-value').textContent).toBe('6.0');
    expect(screen.getByTestId('card-memory-value').textContent).toBe('300 MiB');
    expect(screen.getByTestId('stream-last-id').textContent).toBe('1700000000000002');

    const log = screen.getByTestId('event-log');
    expect(log.querySelectorAll('li[data-event-type="metrics"]')).toHaveLength(2);
    expect(log.querySelector('li')?.getAttribute('data-event-id')).toBe('1700000000000002');

    expect(window.__dashboard?.receivedIds).toEqual([1700000000000001, 1700000000000002]);
    expect(window.__dashboard?.status).toBe('live');
    expect(window.__dashboard?.instances).toEqual(['a1b2c3d4', 'e5f6a7b8']);
  });

  it('exposes window.__dashboard only to pages from a Development host (development sign-in)', async () => {
    installServer({ isAuthenticated: true, name: 'grace', signInMode: 'openIdConnect' });
    const view = render(<App />);
    await waitFor(() => expect(FakeEventSource.instances).toHaveLength(1));
    act(() => {
      FakeEventSource.latest().simulateOpen();
      FakeEventSource.latest().emit('metrics', sample('a1b2c3d4'), '1700000000000001');
    });
    await waitFor(() => expect(screen.getByTestId('stream-last-id').textContent).toBe('1700000000000001'));
    expect(screen.getByTestId('dashboard').getAttribute('data-status')).toBe('live');
    expect(window.__dashboard).toBeUndefined();
    expect('__dashboard' in window).toBe(false);
    view.unmount();

    FakeEventSource.reset();
    installServer({ isAuthenticated: true, name: 'grace', signInMode: 'development' });
    const development = render(<App />);
    await waitFor(() => expect(FakeEventSource.instances).toHaveLength(1));
    act(() => FakeEventSource.latest().simulateOpen());
    await waitFor(() => expect(window.__dashboard?.status).toBe('live'));
    development.unmount();
    expect('__dashboard' in window).toBe(false);
  });

  it('explains when sign-in is not configured', async () => {
    installServer({ isAuthenticated: false, name: null, signInMode: 'none' });
    render(<App />);
    const signIn = await screen.findByTestId('signin');
    expect(signIn.textContent).toContain('Sign-in is not configured on this server');
    expect(screen.queryByLabelText('User name')).toBeNull();
    expect(screen.queryByRole('button', { name: /Sign in/ })).toBeNull();
  });

  it('shows a degraded banner while the metrics service is unavailable', async () => {
    installServer({ isAuthenticated: true, name: 'grace', signInMode: 'development' });
    const fetchMock = vi.mocked(fetch);
    const original = fetchMock.getMockImplementation()!;
    fetchMock.mockImplementation(async (input, init) =>
      String(input) === '/bff/stream-ticket'
        ? new Response(JSON.stringify({ title: 'Metrics API unavailable', detail: 'The metrics service did not answer.', status: 502 }), {
            status: 502,
            headers: { 'Content-Type': 'application/problem+json' },
          })
        : original(input, init),
    );
    render(<App />);
    const banner = await screen.findByTestId('banner');
    expect(banner.textContent).toContain('The metrics service did not answer.');
    expect(screen.getByTestId('stream-status').textContent).toContain('Connecting');
    expect(FakeEventSource.instances).toHaveLength(0);
  });
});
