import type { StreamState } from '../stream/streamClient';
import { formatAgo } from '../format';

const labels: Record<StreamState['status'], string> = {
  connecting: 'Connecting',
  live: 'Live',
  reconnecting: 'Reconnecting',
  stopped: 'Stopped',
};

export function ConnectionStatus({ stream, now }: { stream: StreamState; now: number }) {
  return (
    <section className="status" aria-label="Connection" data-testid="connection-status">
      <span className={`pill pill-${stream.status}`} data-testid="stream-status" role="status">
        <span className="dot" aria-hidden="true" />
        {labels[stream.status]}
      </span>
      <dl className="status-facts">
        <div>
          <dt>Protocol</dt>
          <dd data-testid="stream-protocol">{stream.protocol ?? '–'}</dd>
        </div>
        <div>
          <dt>Last event</dt>
          <dd data-testid="stream-last-event">{formatAgo(stream.lastEventAt, now)}</dd>
        </div>
        <div>
          <dt>Last id</dt>
          <dd className="mono" data-testid="stream-last-id">
            {stream.lastEventId ?? '–'}
          </dd>
        </div>
        <div>
          <dt>Served by</dt>
          <dd className="mono">{stream.instanceId ?? '–'}</dd>
        </div>
      </dl>
    </section>
  );
}
