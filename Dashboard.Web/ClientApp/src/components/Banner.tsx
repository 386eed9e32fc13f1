import type { StreamState } from '../stream/streamClient';

export interface BannerProps {
  stream: StreamState;
  now: number;
  lastSampleAt: number | null;
  /** The replica serving the stream, when it cannot reach the shared event log. */
  backplaneUnavailableAt?: string | null;
  onRetry: () => void;
}

/** One sentence about what is wrong, if anything, and what happens next. */
export function Banner({ stream, now, lastSampleAt, backplaneUnavailableAt, onRetry }: BannerProps) {
  let tone: 'warn' | 'info' | null = null;
  let text = '';
  let retry = false;

  if ((stream.status === 'reconnecting' || stream.status === 'connecting') && stream.error) {
    tone = 'warn';
    const wait = stream.nextAttemptAt ? Math.max(0, Math.ceil((stream.nextAttemptAt - now) / 1000)) : 0;
    text = `Live data unavailable: ${stream.error} ${wait > 0 ? `Retrying in ${wait} s.` : 'Retrying…'}`;
    retry = wait > 0;
  } else if (stream.status === 'reconnecting') {
    tone = 'info';
    text = 'Reconnecting to the metrics stream…';
  } else if (stream.status === 'stopped' && stream.stopReason === 'signed-out') {
    tone = 'warn';
    text = 'The server no longer accepts this session for the live stream.';
    retry = true;
  } else if (stream.status === 'stopped' && stream.stopReason === 'hidden') {
    tone = 'info';
    text = 'Paused while this tab was in the background; it resumes when you come back.';
  } else if (stream.status === 'live' && backplaneUnavailableAt) {
    tone = 'warn';
    text = `${backplaneUnavailableAt} cannot reach the shared event log: showing its own samples only until it is back.`;
  } else if (stream.status === 'live' && lastSampleAt !== null && now - lastSampleAt > 10_000) {
    tone = 'warn';
    text = 'Connected, but no new samples for a while: the metrics service may be overloaded.';
  }

  if (tone === null) {
    return null;
  }
  return (
    <div className={`banner banner-${tone}`} role="alert" data-testid="banner">
      <span>{text}</span>
      {retry && (
        <button type="button" className="link-button" onClick={onRetry}>
          Retry now
        </button>
      )}
    </div>
  );
}
