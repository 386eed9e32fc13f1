// A read-only window hook for the browser end-to-end tests (e2e/run.mjs): what the page received,
// without scraping the DOM. Only pages served by a Development host get it: those are the ones
// whose BFF offers the development sign-in (signInMode "development", which Dashboard.Web reports
// only in the Development environment), and the e2e scenarios sign in that way. Pages from any
// other host (OpenID Connect or no sign-in) never define window.__dashboard.

import type { BffUser } from './api/types';
import type { DashboardSnapshot } from './state/dashboardStore';
import type { StreamState } from './stream/streamClient';

export interface DashboardTestHook {
  status: StreamState['status'];
  stopReason: StreamState['stopReason'];
  protocol: string | null;
  lastEventId: string | null;
  lastEventAt: number | null;
  connections: number;
  instances: string[];
  /** Ids of the `metrics` events received, in order. */
  receivedIds: readonly number[];
  gaps: DashboardSnapshot['gaps'];
  /** Event types received, in order (bounded like the log). */
  log: { type: string; id: string | null }[];
}

declare global {
  interface Window {
    __dashboard?: DashboardTestHook;
  }
}

/** Whether this page may expose the hook: only when a Development host serves it. */
export function testHookAllowed(user: BffUser): boolean {
  return user.signInMode === 'development';
}

/** Sets window.__dashboard; the returned function removes it. */
export function exposeTestHook({ stream, snapshot }: { stream: StreamState; snapshot: DashboardSnapshot }): () => void {
  window.__dashboard = {
    status: stream.status,
    stopReason: stream.stopReason,
    protocol: stream.protocol,
    lastEventId: stream.lastEventId,
    lastEventAt: stream.lastEventAt,
    connections: stream.connections,
    instances: snapshot.instances.map((i) => i.instanceId),
    receivedIds: snapshot.receivedIds,
    gaps: snapshot.gaps,
    log: snapshot.log.map((entry) => ({ type: entry.type, id: entry.id })),
  };
  return () => {
    delete window.__dashboard;
  };
}
