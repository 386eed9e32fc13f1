import { useCallback, useEffect, useState, useSyncExternalStore } from 'react';
import type { BffUser, StreamMessage } from '../api/types';
import { getStreamTicket, StreamPath } from '../api/bff';
import { DashboardStore, type SeriesPoint } from '../state/dashboardStore';
import { useEventStream } from '../stream/useEventStream';
import { exposeTestHook, testHookAllowed } from '../testHook';
import { formatNumber } from '../format';
import { Banner } from './Banner';
import { ConnectionStatus } from './ConnectionStatus';
import { EventLog } from './EventLog';
import { MetricCards } from './MetricCards';
import { TimeSeriesChart } from './TimeSeriesChart';
import { useNow } from './useNow';

const selectCpu = (p: SeriesPoint) => p.cpuPercent;
const selectMemory = (p: SeriesPoint) => p.workingSetMiB;
const selectStreams = (p: SeriesPoint) => p.openStreams;
const selectEvents = (p: SeriesPoint) => p.eventsPerSecond;
const percent = (v: number) => `${formatNumber(v, v < 10 ? 1 : 0)} %`;
const mebibytes = (v: number) => `${formatNumber(v, 0)} MiB`;
const count = (v: number) => (Number.isInteger(v) ? formatNumber(v, 0) : '');
const rate = (v: number) => formatNumber(v, v < 10 ? 1 : 0);

export interface DashboardProps {
  user: BffUser;
  /** The stream found the session gone (401 on the ticket). */
  onSignedOut: () => void;
}

export function Dashboard({ user, onSignedOut }: DashboardProps) {
  // One store for the component's life: useState's initializer runs once (useMemo may recompute and lose the data).
  const [store] = useState(() => new DashboardStore({ publishDelayMs: 100 }));
  const snapshot = useSyncExternalStore(store.subscribe, store.getSnapshot);
  const now = useNow(1000);
  const onMessage = useCallback((message: StreamMessage) => store.apply(message), [store]);

  const stream = useEventStream({
    path: StreamPath,
    enabled: true,
    getTicket: getStreamTicket,
    onMessage,
    // Resume "after 0": the service replays the few minutes it holds, so the charts start full.
    initialLastEventId: '0',
    sessionKey: user.name ?? '',
  });

  useEffect(() => {
    if (stream.status === 'stopped' && stream.stopReason === 'signed-out') {
      onSignedOut();
    }
  }, [stream.status, stream.stopReason, onSignedOut]);

  useEffect(() => {
    store.expireInstances();
  }, [now, store]);

  const testHook = testHookAllowed(user);
  useEffect(() => (testHook ? exposeTestHook({ stream, snapshot }) : undefined), [testHook, stream, snapshot]);

  const stale = stream.status !== 'live' || (snapshot.lastSampleAt !== null && now - snapshot.lastSampleAt > 10_000);

  return (
    <main
      className="dashboard"
      data-testid="dashboard"
      data-status={stream.status}
      data-protocol={stream.protocol ?? ''}
      data-last-event-id={stream.lastEventId ?? ''}
    >
      <ConnectionStatus stream={stream} now={now} />
      <Banner
        stream={stream}
        now={now}
        lastSampleAt={snapshot.lastSampleAt}
        backplaneUnavailableAt={snapshot.backplaneUnavailableAt}
        onRetry={stream.reconnectNow}
      />
      <MetricCards instances={snapshot.instances} stale={stale} />
      <section className="charts" aria-label="Last five minutes">
        <TimeSeriesChart title="Process CPU" instances={snapshot.instances} select={selectCpu} format={percent} />
        <TimeSeriesChart title="Working set" instances={snapshot.instances} select={selectMemory} format={mebibytes} />
        <TimeSeriesChart title="Open streams" instances={snapshot.instances} select={selectStreams} format={count} />
        <TimeSeriesChart title="Events per second" instances={snapshot.instances} select={selectEvents} format={rate} />
      </section>
      <EventLog entries={snapshot.log} />
    </main>
  );
}
