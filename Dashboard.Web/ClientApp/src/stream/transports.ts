// How one connection attempt is made: native EventSource with a single-use ticket from the BFF
// (the access token stays on the server). The StreamClient owns reconnects, backoff and state; the
// transport opens one stream and reports what happened to it through a sink.

import type { StreamMessage, StreamTicket } from '../api/types';
import { StreamEventTypes } from '../api/types';
import { BffError } from '../api/bff';

export type TransportErrorKind =
  /** The session is gone (401): signing in again is the only way forward. */
  | 'unauthorized'
  /** The server or a dependency is down or refused for now (5xx, 429, network on the ticket request): retry later. */
  | 'unavailable'
  /** The stream ended or broke (network error, EventSource error): reconnect. */
  | 'interrupted';

export interface TransportError {
  kind: TransportErrorKind;
  message: string;
  status?: number;
}

export interface TransportSink {
  /** The stream's response arrived (200, text/event-stream). */
  open(): void;
  message(message: StreamMessage): void;
  fail(error: TransportError): void;
}

export interface StreamTransport {
  /**
   * Starts one attempt. The transport calls the sink until the signal aborts, and never after;
   * aborting closes whatever the attempt opened.
   */
  connect(lastEventId: string | null, sink: TransportSink, signal: AbortSignal): void;
}

export interface EventSourceTransportOptions {
  /** The stream's path, e.g. /api/stream/metrics. */
  path: string;
  /** Mints a single-use ticket (POST /bff/stream-ticket). */
  getTicket: (signal: AbortSignal) => Promise<StreamTicket>;
  eventTypes?: readonly string[];
  now?: () => number;
}

/** The URL EventSource opens: the ticket, and the resume point (a new EventSource sends no Last-Event-ID). */
export function ticketUrl(path: string, ticket: string, lastEventId: string | null): string {
  const query = new URLSearchParams({ ticket });
  if (lastEventId) {
    query.set('lastEventId', lastEventId);
  }
  return `${path}?${query.toString()}`;
}

/**
 * EventSource with a ticket in the query. Tickets are single-use, so EventSource's own reconnect
 * (same URL, same ticket) can only fail: on any error this transport closes the EventSource and
 * reports it, and the client reconnects with a new ticket and `lastEventId` in the query.
 */
export function eventSourceTransport(options: EventSourceTransportOptions): StreamTransport {
  const eventTypes = options.eventTypes ?? StreamEventTypes;
  const now = options.now ?? Date.now;
  return {
    connect(lastEventId, sink, signal) {
      void (async () => {
        let ticket: StreamTicket;
        try {
          ticket = await options.getTicket(signal);
        } catch (error) {
          if (!signal.aborted) {
            sink.fail(ticketError(error));
          }
          return;
        }
        if (signal.aborted) {
          return;
        }

        const source = new EventSource(ticketUrl(options.path, ticket.ticket, lastEventId));
        let previousId = lastEventId ?? '';
        const close = () => source.close();
        signal.addEventListener('abort', close, { once: true });

        source.onopen = () => {
          if (!signal.aborted) {
            sink.open();
          }
        };
        const onMessage = (event: MessageEvent<string>) => {
          if (signal.aborted) {
            return;
          }
          // MessageEvent.lastEventId is the stream's last id, so an event carries its own id only
          // when that changed (the service gives ids to data events alone).
          const id = event.lastEventId && event.lastEventId !== previousId ? event.lastEventId : null;
          previousId = event.lastEventId;
          sink.message({ type: event.type, id, data: typeof event.data === 'string' ? event.data : '', receivedAt: now() });
        };
        for (const type of eventTypes) {
          source.addEventListener(type, onMessage as EventListener);
        }
        source.addEventListener('message', onMessage as EventListener);
        source.onerror = () => {
          if (signal.aborted) {
            return;
          }
          const closedForGood = source.readyState === EventSource.CLOSED;
          close();
          signal.removeEventListener('abort', close);
          sink.fail({
            kind: 'interrupted',
            message: closedForGood ? 'The stream was refused or failed.' : 'The stream was interrupted.',
          });
        };
      })();
    },
  };
}

function ticketError(error: unknown): TransportError {
  if (error instanceof BffError) {
    if (error.status === 401) {
      return { kind: 'unauthorized', status: 401, message: 'You are signed out.' };
    }
    return { kind: 'unavailable', status: error.status, message: error.message };
  }
  return { kind: 'unavailable', message: error instanceof Error ? error.message : String(error) };
}
