// A small parser for text/event-stream, following the WHATWG HTML "Server-sent events"
// interpretation rules (§9.2.6): UTF-8 with an optional leading BOM; lines end with CRLF, LF or a
// lone CR (also when a chunk boundary falls between CR and LF); `:` starts a comment; one space
// after the colon is dropped; `id` containing NUL is ignored; `retry` must be ASCII digits; an
// event is dispatched on a blank line only if its data buffer is not empty, but the last event id
// is updated either way; an unterminated event at end of stream is discarded.

export interface SseEvent {
  /** The event type (`message` when the stream gave none). */
  type: string;
  /** The data lines joined with LF. */
  data: string;
  /** The `id` field of this event, or null when the event had none. */
  id: string | null;
  /** The stream's last event id when this event was dispatched (may be empty). */
  lastEventId: string;
}

export interface SseParserHandlers {
  onEvent(event: SseEvent): void;
  /** A valid `retry` field: the new reconnection time in milliseconds. */
  onRetry?(milliseconds: number): void;
}

const LF = 0x0a;
const CR = 0x0d;

export class SseParser {
  private readonly decoder = new TextDecoder('utf-8');
  private readonly handlers: SseParserHandlers;
  private buffer = '';
  private sawCarriageReturn = false;
  private firstChunk = true;
  private data = '';
  private hasData = false;
  private eventType = '';
  private lastEventIdBuffer = '';
  private eventId: string | null = null;
  private _lastEventId = '';

  constructor(handlers: SseParserHandlers, initialLastEventId = '') {
    this.handlers = handlers;
    this._lastEventId = initialLastEventId;
    this.lastEventIdBuffer = initialLastEventId;
  }

  /** The last event id of the stream so far (what a reconnect sends as Last-Event-ID). */
  get lastEventId(): string {
    return this._lastEventId;
  }

  /** Feeds bytes (decoded as UTF-8, split multi-byte sequences included) or already decoded text. */
  feed(chunk: Uint8Array | string): void {
    let text = typeof chunk === 'string' ? chunk : this.decoder.decode(chunk, { stream: true });
    if (this.firstChunk && text.length > 0) {
      this.firstChunk = false;
      if (text.charCodeAt(0) === 0xfeff) {
        text = text.slice(1);
      }
    }
    this.processText(text);
  }

  /** The stream ended: flushes the decoder; a partial line or unterminated event is discarded. */
  end(): void {
    const rest = this.decoder.decode();
    if (rest) {
      this.processText(rest);
    }
    this.buffer = '';
    this.resetEvent();
  }

  private processText(text: string): void {
    let start = 0;
    for (let i = 0; i < text.length; i++) {
      const code = text.charCodeAt(i);
      if (code === LF) {
        if (this.sawCarriageReturn && i === start && this.buffer === '') {
          // The LF of a CRLF whose CR ended the previous chunk (or the previous line).
          this.sawCarriageReturn = false;
          start = i + 1;
          continue;
        }
        this.sawCarriageReturn = false;
        this.processLine(this.buffer + text.slice(start, i));
        this.buffer = '';
        start = i + 1;
      } else if (code === CR) {
        this.processLine(this.buffer + text.slice(start, i));
        this.buffer = '';
        this.sawCarriageReturn = true;
        start = i + 1;
      } else if (this.sawCarriageReturn) {
        this.sawCarriageReturn = false;
      }
    }
    if (start < text.length) {
      this.buffer += text.slice(start);
      this.sawCarriageReturn = false;
    }
  }

  private processLine(line: string): void {
    if (line === '') {
      this.dispatch();
      return;
    }
    if (line.charCodeAt(0) === 0x3a /* : */) {
      return; // comment
    }
    const colon = line.indexOf(':');
    let field: string;
    let value: string;
    if (colon === -1) {
      field = line;
      value = '';
    } else {
      field = line.slice(0, colon);
      value = line.slice(colon + 1);
      if (value.charCodeAt(0) === 0x20 /* space */) {
        value = value.slice(1);
      }
    }
    switch (field) {
      case 'event':
        this.eventType = value;
        break;
      case 'data':
        this.data += value + '\n';
        this.hasData = true;
        break;
      case 'id':
        if (!value.includes('\u0000')) {
          this.lastEventIdBuffer = value;
          this.eventId = value;
        }
        break;
      case 'retry':
        if (/^[0-9]+$/.test(value)) {
          this.handlers.onRetry?.(Number.parseInt(value, 10));
        }
        break;
      default:
        break; // unknown fields are ignored
    }
  }

  private dispatch(): void {
    this._lastEventId = this.lastEventIdBuffer;
    if (!this.hasData) {
      this.resetEvent();
      return;
    }
    const data = this.data.endsWith('\n') ? this.data.slice(0, -1) : this.data;
    const event: SseEvent = { type: this.eventType || 'message', data, id: this.eventId, lastEventId: this._lastEventId };
    this.resetEvent();
    this.handlers.onEvent(event);
  }

  private resetEvent(): void {
    this.data = '';
    this.hasData = false;
    this.eventType = '';
    this.eventId = null;
  }
}
