import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { StreamMessage } from '../api/types';
import { fetchEventStream, StreamHttpError } from './fetchEventStream';
import type { SseEvent } from './sseParser';
import { StreamClient } from './streamClient';
import { fetchTransport } from './transports';

/** A response body the test writes to, chunk by chunk, like a server flushing events. */
function streamingResponse(status = 200, contentType = 'text/event-stream; charset=utf-8') {
  const encoder = new TextEncoder();
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
    },
  });
  const response = new Response(body, { status, headers: { 'Content-Type': contentType } });
  return {
    response,
    write: (text: string) => controller.enqueue(encoder.encode(text)),
    end: () => controller.close(),
    error: (reason: unknown) => controller.error(reason),
  };
}

interface Call {
  url: string;
  headers: Headers;
  signal: AbortSignal | null | undefined;
}

function fakeFetch(responses: (() => Response | Promise<Response>)[]) {
  const calls: Call[] = [];
  const impl = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    calls.push({ url: String(input), headers: new Headers(init?.headers), signal: init?.signal });
    const next = responses.shift();
    if (!next) {
      throw new TypeError('Failed to fetch');
    }
    return next();
  });
  return { impl: impl as unknown as typeof fetch, calls };
}

async function tick(ms = 0) {
  await vi.advanceTimersByTimeAsync(ms);
}

describe('fetchEventStream', () => {
  it('sends the Authorization and Last-Event-ID headers and parses the body as it arrives', async () => {
    const server = streamingResponse();
    const { impl, calls } = fakeFetch([() => server.response]);
    const events: SseEvent[] = [];
    const opened = vi.fn();
    const done = fetchEventStream({
      url: '/api/stream/metrics',
      authorization: 'Bearer abc',
      lastEventId: '41',
      onOpen: opened,
      onEvent: (e) => events.push(e),
      fetchImpl: impl,
    });

    await vi.waitFor(() => expect(opened).toHaveBeenCalled());
    expect(calls[0].headers.get('Authorization')).toBe('Bearer abc');
    expect(calls[0].headers.get('Last-Event-ID')).toBe('41');
    expect(calls[0].headers.get('Accept')).toBe('text/event-stream');
    expect(calls[0].url).toBe('/api/stream/metrics');

    server.write('event: ready\ndata: {}\n\nevent: metrics\nid: 42\nda');
    await vi.waitFor(() => expect(events).toHaveLength(1));
    server.write('ta: {"x":1}\n\n');
    await vi.waitFor(() => expect(events).toHaveLength(2));
    server.end();

    await expect(done).resolves.toEqual({ lastEventId: '42' });
    expect(events[1]).toEqual({ type: 'metrics', data: '{"x":1}', id: '42', lastEventId: '42' });
  });

  it('fails the connection on a status other than 200', async () => {
    const { impl } = fakeFetch([() => new Response('{"title":"nope"}', { status: 401, headers: { 'Content-Type': 'application/problem+json' } })]);
    const failure = fetchEventStream({ url: '/s', onEvent: () => undefined, fetchImpl: impl });
    await expect(failure).rejects.toBeInstanceOf(StreamHttpError);
    await expect(failure).rejects.toMatchObject({ status: 401 });
  });

  it('fails the connection when the content type is not text/event-stream', async () => {
    const { impl } = fakeFetch([() => new Response('<html>', { status: 200, headers: { 'Content-Type': 'text/html' } })]);
    await expect(fetchEventStream({ url: '/s', onEvent: () => undefined, fetchImpl: impl })).rejects.toMatchObject({ status: 200 });
  });

  it('stops reading when aborted', async () => {
    const server = streamingResponse();
    const { impl } = fakeFetch([() => server.response]);
    const controller = new AbortController();
    const events: SseEvent[] = [];
    const done = fetchEventStream({ url: '/s', signal: controller.signal, onEvent: (e) => events.push(e), fetchImpl: impl });
    server.write('data: 1\n\n');
    await vi.waitFor(() => expect(events).toHaveLength(1));
    server.error(new DOMException('The operation was aborted.', 'AbortError'));
    controller.abort();
    await expect(done).rejects.toMatchObject({ name: 'AbortError' });
  });
});

describe('StreamClient over the fetch transport (bearer token)', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  function client(responses: (() => Response | Promise<Response>)[], getAuthorization = vi.fn(() => 'Bearer token-1')) {
    const { impl, calls } = fakeFetch(responses);
    const messages: StreamMessage[] = [];
    const streamClient = new StreamClient({
      transport: fetchTransport({ url: '/api/stream/metrics', getAuthorization, fetchImpl: impl }),
      onMessage: (m) => messages.push(m),
      document: null,
      window: null,
      getProtocol: () => 'h2',
    });
    return { streamClient, calls, messages, getAuthorization };
  }

  it('streams with the Authorization header and resumes with Last-Event-ID after the server ends the stream', async () => {
    const first = streamingResponse();
    const second = streamingResponse();
    const { streamClient, calls, messages } = client([() => first.response, () => second.response]);
    streamClient.start();
    await tick();
    expect(calls[0].headers.get('Authorization')).toBe('Bearer token-1');
    expect(calls[0].headers.has('Last-Event-ID')).toBe(false);
    expect(streamClient.getState().status).toBe('live');
    expect(streamClient.getState().transport).toBe('fetch');
    expect(streamClient.getState().protocol).toBe('h2');

    first.write('event: metrics\nid: 10\ndata: {}\n\nevent: metrics\nid: 11\ndata: {}\n\n');
    await tick();
    expect(messages.map((m) => m.id)).toEqual(['10', '11']);
    first.end();
    await tick();
    expect(streamClient.getState().status).toBe('reconnecting');

    await tick(750);
    expect(calls).toHaveLength(2);
    expect(calls[1].headers.get('Last-Event-ID')).toBe('11');
    second.write('event: metrics\nid: 12\ndata: {}\n\n');
    await tick();
    expect(streamClient.getState().lastEventId).toBe('12');
    streamClient.dispose();
    expect(calls[1].signal?.aborted).toBe(true);
  });

  it('stops as signed out on 401', async () => {
    const { streamClient, calls } = client([() => new Response(null, { status: 401 })]);
    streamClient.start();
    await tick();
    expect(streamClient.getState()).toMatchObject({ status: 'stopped', stopReason: 'signed-out' });
    await tick(60_000);
    expect(calls).toHaveLength(1);
  });

  it('retries with backoff on 503 and network errors, asking for the token each time', async () => {
    const ok = streamingResponse();
    const getAuthorization = vi.fn(() => 'Bearer fresh');
    const { streamClient, calls } = client(
      [
        () => new Response(null, { status: 503 }),
        () => Promise.reject(new TypeError('Failed to fetch')),
        () => ok.response,
      ],
      getAuthorization,
    );
    streamClient.start();
    await tick();
    expect(streamClient.getState()).toMatchObject({ status: 'connecting', failures: 1 });
    await tick(750);
    expect(streamClient.getState()).toMatchObject({ status: 'connecting', failures: 2 });
    await tick(1500);
    expect(calls).toHaveLength(3);
    expect(getAuthorization).toHaveBeenCalledTimes(3);
    expect(streamClient.getState().status).toBe('live');
    streamClient.dispose();
  });

  it('handles the shutdown goodbye by reconnecting after the jittered pause', async () => {
    const first = streamingResponse();
    const second = streamingResponse();
    const { streamClient, calls } = client([() => first.response, () => second.response]);
    streamClient.start();
    await tick();
    first.write('event: metrics\nid: 5\ndata: {}\n\nevent: shutdown\ndata: {"reason":"shutdown","instanceId":"x"}\nretry: 2000\n\n');
    await tick();
    expect(calls[0].signal?.aborted).toBe(true);
    expect(streamClient.getState().status).toBe('reconnecting');
    await tick(3000);
    expect(calls).toHaveLength(2);
    expect(calls[1].headers.get('Last-Event-ID')).toBe('5');
    streamClient.dispose();
  });
});
