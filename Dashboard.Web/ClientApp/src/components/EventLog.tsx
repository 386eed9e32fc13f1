import type { LogEntry } from '../state/dashboardStore';
import { formatClock } from '../format';

/** The newest events first; the store keeps a bounded number. */
export function EventLog({ entries, visible = 60 }: { entries: readonly LogEntry[]; visible?: number }) {
  const newest = entries.slice(-visible).reverse();
  return (
    <section className="panel log" aria-label="Event log">
      <header className="panel-header">
        <h2>Event log</h2>
        <span className="muted">last {Math.min(visible, entries.length)} of {entries.length} kept</span>
      </header>
      {newest.length === 0 ? (
        <p className="muted empty">No events yet.</p>
      ) : (
        <ol className="log-list" data-testid="event-log">
          {newest.map((entry) => (
            <li key={entry.seq} className={`log-entry log-${entry.type}`} data-event-type={entry.type} data-event-id={entry.id ?? undefined}>
              <time dateTime={new Date(entry.time).toISOString()}>{formatClock(entry.time)}</time>
              <span className="badge">{entry.type}</span>
              <span className="mono log-id">{entry.id ? `#${entry.id}` : ''}</span>
              <span className="log-summary">{entry.summary}</span>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
