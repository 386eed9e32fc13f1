import { describe, expect, it } from 'vitest';
import { SseParser, type SseEvent } from './sseParser';

function parse(chunks: (string | Uint8Array)[], initialLastEventId = '') {
  const events: SseEvent[] = [];
  const retries: number[] = [];
  const parser = new SseParser({ onEvent: (e) => events.push(e), onRetry: (ms) => retries.push(ms) }, initialLastEventId);
  for (const chunk of chunks) {
    parser.feed(chunk);
  }
  parser.end();
  return { events, retries, lastEventId: parser.lastEventId };
}

/** Every way of cutting the input in two, to prove chunk boundaries never matter. */
function everySplit(text: string) {
  const results = [];
  for (let i = 0; i <= text.length; i++) {
    results.push(parse([text.slice(0, i), text.slice(i)]));
  }
  return results;
}

describe('SseParser (WHATWG event-stream interpretation)', () => {
  it('dispatches a typed event with an id on a blank line', () => {
    const { events, lastEventId } = parse(['event: metrics\nid: 42\ndata: {"a":1}\n\n']);
    expect(events).toEqual([{ type: 'metrics', data: '{"a":1}', id: '42', lastEventId: '42' }]);
    expect(lastEventId).toBe('42');
  });

  it('defaults the type to message', () => {
    expect(parse(['data: hello\n\n']).events).toEqual([{ type: 'message', data: 'hello', id: null, lastEventId: '' }]);
  });

  it('accepts CRLF, LF and lone CR line endings, mixed', () => {
    const { events } = parse(['data: a\r\n\r\ndata: b\n\ndata: c\r\rdata: d\r\n\n']);
    expect(events.map((e) => e.data)).toEqual(['a', 'b', 'c', 'd']);
  });

  it('treats a CRLF split across chunks as one line ending', () => {
    const { events } = parse(['data: a\r', '\ndata: b\r', '\n\r', '\n']);
    expect(events).toHaveLength(1);
    expect(events[0].data).toBe('a\nb');
  });

  it('gives the same result wherever a chunk boundary falls', () => {
    const text = 'event: x\r\nid: 7\r\ndata: one\r\ndata: two\r\n\r\n: comment\rdata: three\r\r';
    for (const result of everySplit(text)) {
      expect(result.events).toEqual([
        { type: 'x', data: 'one\ntwo', id: '7', lastEventId: '7' },
        { type: 'message', data: 'three', id: null, lastEventId: '7' },
      ]);
    }
  });

  it('joins multi-line data with LF and drops only the final LF', () => {
    const { events } = parse(['data: line 1\ndata: line 2\ndata:\ndata: line 4\n\n']);
    expect(events[0].data).toBe('line 1\nline 2\n\nline 4');
  });

  it('ignores comments, including a comment-only heartbeat', () => {
    const { events } = parse([':\n\n: keep-alive\n\ndata: x\n: inside an event\n\n']);
    expect(events).toEqual([{ type: 'message', data: 'x', id: null, lastEventId: '' }]);
  });

  it('updates the last event id for an event with an id but no data, without dispatching', () => {
    const { events, lastEventId } = parse(['id: 5\n\nevent: ping\n\ndata: after\n\n']);
    expect(events).toEqual([{ type: 'message', data: 'after', id: null, lastEventId: '5' }]);
    expect(lastEventId).toBe('5');
  });

  it('dispatches an event whose only data line is empty', () => {
    const { events } = parse(['event: ping\ndata: \n\n', 'event: ping\ndata\n\n']);
    expect(events).toEqual([
      { type: 'ping', data: '', id: null, lastEventId: '' },
      { type: 'ping', data: '', id: null, lastEventId: '' },
    ]);
  });

  it('resets the event type after each dispatch', () => {
    const { events } = parse(['event: a\ndata: 1\n\ndata: 2\n\n']);
    expect(events.map((e) => e.type)).toEqual(['a', 'message']);
  });

  it('clears the last event id with an empty id field', () => {
    const { events, lastEventId } = parse(['id: 3\ndata: a\n\nid\ndata: b\n\n']);
    expect(events.map((e) => e.lastEventId)).toEqual(['3', '']);
    expect(lastEventId).toBe('');
  });

  it('ignores an id that contains NUL', () => {
    const { events } = parse(['id: 1\ndata: a\n\nid: 2\u00003\ndata: b\n\n']);
    expect(events.map((e) => e.lastEventId)).toEqual(['1', '1']);
  });

  it('keeps the resume id it started with until the stream sends a new one', () => {
    const { events } = parse(['event: ready\ndata: {}\n\n'], '99');
    expect(events[0].lastEventId).toBe('99');
  });

  it('reports retry only when the value is ASCII digits', () => {
    const { retries, events } = parse(['retry: 3000\n', 'retry: 1.5\nretry: -1\nretry: abc\nretry:\nretry: 250\n\n']);
    expect(retries).toEqual([3000, 250]);
    expect(events).toEqual([]);
  });

  it('drops exactly one space after the colon and keeps the rest', () => {
    const { events } = parse(['data:no space\n\n', 'data:  two spaces\n\n', 'data:with: colon\n\n']);
    expect(events.map((e) => e.data)).toEqual(['no space', ' two spaces', 'with: colon']);
  });

  it('treats a line without a colon as a field with an empty value', () => {
    const { events } = parse(['data\ndata\n\n']);
    expect(events[0].data).toBe('\n');
  });

  it('ignores unknown fields and field names that differ in case', () => {
    const { events } = parse(['foo: bar\nData: x\nEVENT: y\ndata: z\n\n']);
    expect(events).toEqual([{ type: 'message', data: 'z', id: null, lastEventId: '' }]);
  });

  it('discards an unterminated event at the end of the stream', () => {
    const { events, lastEventId } = parse(['data: complete\n\nid: 9\ndata: partial\n']);
    expect(events.map((e) => e.data)).toEqual(['complete']);
    expect(lastEventId).toBe('');
  });

  it('strips one leading byte order mark and decodes UTF-8 split across chunks', () => {
    const bytes = new TextEncoder().encode('\uFEFFdata: héllo ✓\n\n');
    const chunks = [bytes.slice(0, 2), bytes.slice(2, 10), bytes.slice(10, 13), bytes.slice(13)];
    const { events } = parse(chunks);
    expect(events).toEqual([{ type: 'message', data: 'héllo ✓', id: null, lastEventId: '' }]);
  });

  it('keeps a BOM that is not at the very start', () => {
    const { events } = parse(['data: a\n\n', '\uFEFFdata: b\n\n']);
    expect(events.map((e) => e.data)).toEqual(['a']);
  });

  it('parses what Metrics.Api writes (SseFormatter output)', () => {
    const stream =
      'event: ready\ndata: {"instanceId":"a1b2c3d4","heartbeatSeconds":15}\nretry: 3000\n\n' +
      'event: metrics\ndata: {"timestamp":1,"instanceId":"a1b2c3d4"}\nid: 1700000000000001\n\n' +
      'event: ping\ndata: \n\n' +
      'event: shutdown\ndata: {"reason":"shutdown","instanceId":"a1b2c3d4"}\nretry: 2345\n\n';
    const { events, retries, lastEventId } = parse([stream]);
    expect(events.map((e) => [e.type, e.id])).toEqual([
      ['ready', null],
      ['metrics', '1700000000000001'],
      ['ping', null],
      ['shutdown', null],
    ]);
    expect(retries).toEqual([3000, 2345]);
    expect(lastEventId).toBe('1700000000000001');
  });
});
