import { useEffect, useRef, useState } from 'react';
import type { StreamMessage, StreamTicket } from '../api/types';
import type { BackoffOptions } from './backoff';
import { StreamClient, stoppedState, type StreamState } from './streamClient';
import { eventSourceTransport } from './transports';

export interface UseEventStreamOptions {
  /** The stream's path, e.g. /api/stream/metrics. */
  path: string;
  /** False keeps the stream closed (e.g. while signed out). */
  enabled: boolean;
  /** Mints a single-use stream ticket for each attempt (POST /bff/stream-ticket with the cookie session). */
  getTicket: (signal: AbortSignal) => Promise<StreamTicket>;
  onMessage: (message: StreamMessage) => void;
  backoff?: BackoffOptions;
  hiddenPauseMs?: number;
  shutdownRetryMs?: readonly [number, number];
  /** The first connection's resume point ("0": everything the service still holds). */
  initialLastEventId?: string | null;
  /** Re-creating the client when this changes, e.g. after signing in as someone else. */
  sessionKey?: string;
}

export interface UseEventStreamResult extends StreamState {
  /** Tries again now instead of waiting for the backoff. */
  reconnectNow: () => void;
}

/**
 * One live event stream per mounted component. The client lives in an effect: under React Strict
 * Mode the first client is disposed before its deferred first attempt runs, so one stream opens.
 */
export function useEventStream(options: UseEventStreamOptions): UseEventStreamResult {
  const latest = useRef(options);
  latest.current = options;
  const clientRef = useRef<StreamClient | null>(null);
  const [state, setState] = useState<StreamState>(stoppedState);

  const { enabled, path, sessionKey } = options;

  useEffect(() => {
    if (!enabled) {
      setState((current) => ({ ...current, status: 'stopped', stopReason: 'stopped', nextAttemptAt: null }));
      return undefined;
    }
    const client = new StreamClient({
      transport: eventSourceTransport({ path, getTicket: (signal) => latest.current.getTicket(signal) }),
      onMessage: (message) => latest.current.onMessage(message),
      backoff: latest.current.backoff,
      hiddenPauseMs: latest.current.hiddenPauseMs,
      shutdownRetryMs: latest.current.shutdownRetryMs,
      initialLastEventId: latest.current.initialLastEventId,
    });
    clientRef.current = client;
    const unsubscribe = client.subscribe(setState);
    client.start();
    setState(client.getState());
    return () => {
      unsubscribe();
      client.dispose();
      if (clientRef.current === client) {
        clientRef.current = null;
      }
    };
  }, [enabled, path, sessionKey]);

  const reconnectNow = useRef(() => clientRef.current?.reconnectNow()).current;
  return { ...state, reconnectNow };
}
