import { useEffect, useRef, useState } from 'react';
import type { StreamMessage, StreamTicket } from '../api/types';
import type { BackoffOptions } from './backoff';
import { StreamClient, stoppedState, type StreamState } from './streamClient';
import { eventSourceTransport, fetchTransport, type StreamTransport } from './transports';

export interface UseEventStreamOptions {
  /** The stream's path, e.g. /api/stream/metrics. */
  path: string;
  /** False keeps the stream closed (e.g. while signed out). */
  enabled: boolean;
  /**
   * EventSource with tickets (browsers with a cookie session), or fetch() with an Authorization
   * header (clients that hold a bearer token).
   */
  transport:
    | { kind: 'eventsource'; getTicket: (signal: AbortSignal) => Promise<StreamTicket> }
    | { kind: 'fetch'; getAuthorization: (signal: AbortSignal) => Promise<string | null> | string | null };
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
  const [state, setState] = useState<StreamState>(() => stoppedState(options.transport.kind));

  const { enabled, path, sessionKey } = options;
  const transportKind = options.transport.kind;

  useEffect(() => {
    if (!enabled) {
      setState((current) => ({ ...current, status: 'stopped', stopReason: 'stopped', nextAttemptAt: null }));
      return undefined;
    }
    const transport: StreamTransport =
      transportKind === 'eventsource'
        ? eventSourceTransport({
            path,
            getTicket: (signal) => {
              const current = latest.current.transport;
              if (current.kind !== 'eventsource') {
                throw new Error('The transport changed.');
              }
              return current.getTicket(signal);
            },
          })
        : fetchTransport({
            url: path,
            getAuthorization: (signal) => {
              const current = latest.current.transport;
              return current.kind === 'fetch' ? current.getAuthorization(signal) : null;
            },
          });
    const client = new StreamClient({
      transport,
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
  }, [enabled, path, sessionKey, transportKind]);

  const reconnectNow = useRef(() => clientRef.current?.reconnectNow()).current;
  return { ...state, reconnectNow };
}
