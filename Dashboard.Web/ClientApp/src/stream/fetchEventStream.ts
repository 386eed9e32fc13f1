// The second transport: reads an event stream with fetch() and a ReadableStream, so the request
// can carry an Authorization header (EventSource cannot). For clients that hold a bearer token:
// no ticket and no token in the URL. Resuming uses the Last-Event-ID header, like EventSource.

import { SseParser, type SseEvent } from './sseParser';

export class StreamHttpError extends Error {
  readonly status: number;

  constructor(status: number, message: string) {
    super(message);
    this.name = 'StreamHttpError';
    this.status = status;
  }
}

export interface FetchEventStreamOptions {
  url: string;
  /** Sent as `Authorization` (e.g. `Bearer eyJ…`). */
  authorization?: string;
  /** Sent as `Last-Event-ID` when not empty. */
  lastEventId?: string | null;
  signal?: AbortSignal;
  /** Called once the response is 200 with `text/event-stream`. */
  onOpen?: () => void;
  onEvent: (event: SseEvent) => void;
  onRetry?: (milliseconds: number) => void;
  fetchImpl?: typeof fetch;
}

export interface FetchEventStreamResult {
  /** The stream's last event id when it ended. */
  lastEventId: string;
}

/**
 * Opens one stream and reads it to the end. Resolves when the server ends the response; rejects
 * with StreamHttpError for a status other than 200 or a wrong content type (what EventSource calls
 * "fail the connection"), with the fetch error for a network failure, and with an AbortError when
 * the signal aborts.
 */
export async function fetchEventStream(options: FetchEventStreamOptions): Promise<FetchEventStreamResult> {
  const headers = new Headers({ Accept: 'text/event-stream', 'Cache-Control': 'no-store' });
  if (options.authorization) {
    headers.set('Authorization', options.authorization);
  }
  if (options.lastEventId) {
    headers.set('Last-Event-ID', options.lastEventId);
  }

  const doFetch = options.fetchImpl ?? fetch;
  const response = await doFetch(options.url, {
    method: 'GET',
    headers,
    cache: 'no-store',
    credentials: 'same-origin',
    signal: options.signal,
  });

  if (response.status !== 200) {
    await response.body?.cancel().catch(() => undefined);
    throw new StreamHttpError(response.status, `The stream answered ${response.status}.`);
  }
  const contentType = response.headers.get('Content-Type') ?? '';
  if (!/^text\/event-stream\b/i.test(contentType)) {
    await response.body?.cancel().catch(() => undefined);
    throw new StreamHttpError(response.status, `The stream answered with "${contentType}", not text/event-stream.`);
  }
  if (!response.body) {
    throw new StreamHttpError(response.status, 'The stream has no body.');
  }

  options.onOpen?.();
  const parser = new SseParser({ onEvent: options.onEvent, onRetry: options.onRetry }, options.lastEventId ?? '');
  const reader = response.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) {
        break;
      }
      parser.feed(value);
    }
  } finally {
    parser.end();
    reader.releaseLock();
  }
  return { lastEventId: parser.lastEventId };
}
