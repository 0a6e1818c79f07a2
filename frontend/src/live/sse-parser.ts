/**
 * An incremental parser for `text/event-stream` (the WHATWG server-sent events format): feed it
 * decoded text in whatever chunks the network delivers; it calls `onEvent` once per complete event.
 * Handles `\n`, `\r\n` and `\r` line ends, comments (`:` lines), multi-line `data`, `id` and
 * `retry`, and a leading byte-order mark.
 */
export interface SseEvent {
  /** The `event:` field; `message` when the server sent none. */
  event: string;
  data: string;
  /** The last `id:` seen on the stream (sticky, as in EventSource). */
  id: string | null;
  /** A `retry:` the server asked for, in milliseconds. */
  retry: number | null;
}

export class SseParser {
  private buffer = '';
  private eventName = '';
  private dataLines: string[] = [];
  private hasData = false;
  private lastId: string | null = null;
  private retry: number | null = null;
  private first = true;
  /** A `\r` ended the previous chunk: a `\n` starting the next chunk belongs to it. */
  private pendingCr = false;

  constructor(private readonly onEvent: (event: SseEvent) => void) {}

  push(chunk: string): void {
    if (this.first && chunk.length > 0) {
      this.first = false;
      if (chunk.charCodeAt(0) === 0xfeff) chunk = chunk.slice(1);
    }
    if (this.pendingCr) {
      this.pendingCr = false;
      if (chunk.startsWith('\n')) chunk = chunk.slice(1);
    }
    this.buffer += chunk;
    let start = 0;
    for (let i = 0; i < this.buffer.length; i++) {
      const ch = this.buffer[i];
      if (ch !== '\n' && ch !== '\r') continue;
      this.line(this.buffer.slice(start, i));
      if (ch === '\r') {
        if (i + 1 < this.buffer.length) {
          if (this.buffer[i + 1] === '\n') i++;
        } else {
          this.pendingCr = true;
        }
      }
      start = i + 1;
    }
    this.buffer = this.buffer.slice(start);
  }

  /** Drop a half-received event (the connection broke). */
  reset(): void {
    this.buffer = '';
    this.eventName = '';
    this.dataLines = [];
    this.hasData = false;
    this.pendingCr = false;
    this.first = true;
  }

  private line(line: string): void {
    if (line === '') {
      this.dispatch();
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'event':
        this.eventName = value;
        break;
      case 'data':
        this.dataLines.push(value);
        this.hasData = true;
        break;
      case 'id':
        if (!value.includes('\0')) this.lastId = value;
        break;
      case 'retry':
        if (/^\d+$/.test(value)) this.retry = Number(value);
        break;
      default:
        break;
    }
  }

  private dispatch(): void {
    if (this.hasData) {
      this.onEvent({
        event: this.eventName || 'message',
        data: this.dataLines.join('\n'),
        id: this.lastId,
        retry: this.retry,
      });
    }
    this.eventName = '';
    this.dataLines = [];
    this.hasData = false;
  }
}
