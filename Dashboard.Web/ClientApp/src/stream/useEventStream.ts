import { useCallback, useEffect, useEffectEvent, useRef, useState } from 'react';
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
 * The stream reopens only when `enabled`, `path` or `sessionKey` change; the callbacks are read
 * when called and the settings when a client is made, so new ones on every render are harmless.
 */
export function useEventStream(options: UseEventStreamOptions): UseEventStreamResult {
  const { enabled, path, sessionKey } = options;
  const clientRef = useRef<StreamClient | null>(null);
  const [state, setState] = useState<StreamState>(stoppedState);

  const getTicket = useEffectEvent((signal: AbortSignal) => options.getTicket(signal));
  const onMessage = useEffectEvent((message: StreamMessage) => options.onMessage(message));
  const settings = useEffectEvent(() => ({
    backoff: options.backoff,
    hiddenPauseMs: options.hiddenPauseMs,
    shutdownRetryMs: options.shutdownRetryMs,
    initialLastEventId: options.initialLastEventId,
  }));

  useEffect(() => {
    if (!enabled) {
      return undefined;
    }
    const client = new StreamClient({
      ...settings(),
      transport: eventSourceTransport({ path, getTicket: (signal) => getTicket(signal) }),
      onMessage: (message) => onMessage(message),
    });
    clientRef.current = client;
    // start() publishes "connecting" to this subscriber at once.
    const unsubscribe = client.subscribe(setState);
    client.start();
    return () => {
      // dispose() publishes "stopped" (keeping the last id and protocol) before it drops its subscribers.
      client.dispose();
      unsubscribe();
      if (clientRef.current === client) {
        clientRef.current = null;
      }
    };
  }, [enabled, path, sessionKey]);

  const reconnectNow = useCallback(() => clientRef.current?.reconnectNow(), []);
  return { ...state, reconnectNow };
}
