import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fakeApi } from '@/testing/fake-backend';
import { jsonResponse } from '@/testing/fixtures';
import { backoffDelay } from './backoff';
import { apiEventStream, LiveEvents, type LiveEventName, type OpenResult } from './live-events';

/** A controllable server: each `open` gets a stream the test can write to or break. */
class FakeServer {
  connections: Array<{
    push(text: string): void;
    pushBytes(bytes: Uint8Array): void;
    close(): void;
    fail(err?: Error): void;
    signal: AbortSignal;
  }> = [];
  responses: Array<OpenResult | 'stream'> = [];
  open = vi.fn(async (signal: AbortSignal): Promise<OpenResult> => {
    const next = this.responses.shift() ?? 'stream';
    if (next !== 'stream') return next;
    let ctrl!: ReadableStreamDefaultController<Uint8Array>;
    const stream = new ReadableStream<Uint8Array>({ start: (c) => void (ctrl = c) });
    signal.addEventListener('abort', () => {
      try {
        ctrl.error(new DOMException('aborted', 'AbortError'));
      } catch {
        /* already closed */
      }
    });
    this.connections.push({
      push: (text) => ctrl.enqueue(new TextEncoder().encode(text)),
      pushBytes: (bytes) => ctrl.enqueue(bytes),
      close: () => ctrl.close(),
      fail: (err = new TypeError('network error')) => ctrl.error(err),
      signal,
    });
    return { ok: true, stream };
  });
  get last() {
    return this.connections[this.connections.length - 1]!;
  }
}

const backoff = { initialMs: 1_000, maxMs: 8_000, factor: 2, jitter: 0 };

describe('backoffDelay', () => {
  it('grows exponentially to a cap', () => {
    expect([0, 1, 2, 3, 4, 5].map((a) => backoffDelay(a, backoff))).toEqual([1000, 2000, 4000, 8000, 8000, 8000]);
  });
  it('spreads delays with jitter', () => {
    const opts = { ...backoff, jitter: 0.5 };
    expect(backoffDelay(1, opts, () => 0)).toBe(1000);
    expect(backoffDelay(1, opts, () => 1)).toBe(2000);
  });
});

describe('LiveEvents', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(0);
  });
  afterEach(() => vi.useRealTimers());

  function setup(extra: Partial<ConstructorParameters<typeof LiveEvents>[0]> = {}) {
    const server = new FakeServer();
    const live = new LiveEvents({ open: server.open, backoff, random: () => 0, idleTimeoutMs: 60_000, stableAfterMs: 10_000, ...extra });
    return { server, live };
  }

  it('delivers parsed events to their listeners', async () => {
    const { server, live } = setup();
    const queue = vi.fn();
    const agent = vi.fn();
    live.on('queue', queue);
    live.on('agent', agent);
    live.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(live.status.state).toBe('open');
    server.last.push('event: queue\ndata: [{"call_id":"c1"}]\n\nevent: ping\ndata: {}\n\nevent: agent\ndata: {"id":"a1"}\n\n');
    await vi.advanceTimersByTimeAsync(0);
    expect(queue).toHaveBeenCalledWith([{ call_id: 'c1' }]);
    expect(agent).toHaveBeenCalledWith({ id: 'a1' });
    live.stop();
  });

  it('reconnects with growing delays after failures, and resyncs on every open', async () => {
    const { server, live } = setup();
    const opened = vi.fn();
    live.onOpen(opened);
    server.responses = [
      { ok: false, message: 'HTTP 503' },
      { ok: false, message: 'HTTP 503' },
      { ok: false, message: 'HTTP 503' },
    ];
    live.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(live.status).toMatchObject({ state: 'reconnecting', attempt: 1, retryAt: 1_000, lastError: 'HTTP 503' });
    await vi.advanceTimersByTimeAsync(1_000);
    expect(server.open).toHaveBeenCalledTimes(2);
    expect(live.status).toMatchObject({ attempt: 2, retryAt: 1_000 + 2_000 });
    await vi.advanceTimersByTimeAsync(2_000);
    expect(server.open).toHaveBeenCalledTimes(3);
    await vi.advanceTimersByTimeAsync(3_999);
    expect(server.open).toHaveBeenCalledTimes(3);
    await vi.advanceTimersByTimeAsync(1);
    expect(server.open).toHaveBeenCalledTimes(4);
    expect(live.status.state).toBe('open');
    expect(opened).toHaveBeenCalledTimes(1);
    live.stop();
  });

  it('reconnects after a network drop; a connection that delivered events resets the backoff', async () => {
    const { server, live } = setup();
    const opened = vi.fn();
    live.onOpen(opened);
    live.start();
    await vi.advanceTimersByTimeAsync(0);
    server.last.push('event: ping\ndata: {}\n\n');
    await vi.advanceTimersByTimeAsync(0);
    server.last.fail();
    await vi.advanceTimersByTimeAsync(0);
    expect(live.status).toMatchObject({ state: 'reconnecting', attempt: 1, retryAt: 1_000 });
    await vi.advanceTimersByTimeAsync(1_000);
    expect(live.status.state).toBe('open');
    expect(opened).toHaveBeenCalledTimes(2);
    // Dropped again at once, having delivered nothing: the delay grows.
    server.last.close();
    await vi.advanceTimersByTimeAsync(0);
    expect(live.status).toMatchObject({ state: 'reconnecting', attempt: 2 });
    expect(live.status.retryAt! - Date.now()).toBe(2_000);
    live.stop();
  });

  it('treats a silent connection as dead', async () => {
    const { server, live } = setup({ idleTimeoutMs: 30_000 });
    live.start();
    await vi.advanceTimersByTimeAsync(0);
    await vi.advanceTimersByTimeAsync(29_000);
    server.last.push(': keep-alive\n\n');
    await vi.advanceTimersByTimeAsync(29_000);
    expect(live.status.state).toBe('open');
    await vi.advanceTimersByTimeAsync(1_000);
    expect(live.status).toMatchObject({ state: 'reconnecting', lastError: 'No live updates for a while.' });
    expect(server.connections[0]!.signal.aborted).toBe(true);
    live.stop();
  });

  it('stops for good on a fatal answer (session gone)', async () => {
    const { server, live } = setup();
    server.responses = [{ ok: false, fatal: true, message: 'Live updates need a valid session.' }];
    live.start();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(server.open).toHaveBeenCalledTimes(1);
    expect(live.status).toMatchObject({ state: 'stopped', lastError: 'Live updates need a valid session.' });
  });

  it('reconnectNow skips the wait; stop cancels everything', async () => {
    const { server, live } = setup();
    server.responses = [{ ok: false, message: 'offline' }];
    live.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(live.status.state).toBe('reconnecting');
    live.reconnectNow();
    await vi.advanceTimersByTimeAsync(0);
    expect(server.open).toHaveBeenCalledTimes(2);
    expect(live.status.state).toBe('open');
    live.stop();
    expect(server.last.signal.aborted).toBe(true);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(server.open).toHaveBeenCalledTimes(2);
    expect(live.status.state).toBe('stopped');
  });

  it('ignores malformed event data without dropping the connection', async () => {
    const bad = vi.fn();
    const { server, live } = setup({ onBadEvent: bad });
    const call = vi.fn();
    live.on('call', call);
    live.start();
    await vi.advanceTimersByTimeAsync(0);
    server.last.push('event: call\ndata: {oops\n\nevent: call\ndata: {"id":"c"}\n\n');
    await vi.advanceTimersByTimeAsync(0);
    expect(bad).toHaveBeenCalledTimes(1);
    expect(call).toHaveBeenCalledWith({ id: 'c' });
    expect(live.status.state).toBe('open');
    live.stop();
  });
});

describe('LiveEvents: the text/event-stream wire format', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(0);
  });
  afterEach(() => vi.useRealTimers());

  /** Feeds `chunks` (text or raw bytes) to one open connection; returns what listeners got. */
  async function receive(chunks: Array<string | Uint8Array>, names: LiveEventName[] = ['agent', 'call']) {
    const server = new FakeServer();
    const live = new LiveEvents({ open: server.open, backoff, random: () => 0, idleTimeoutMs: 60_000 });
    const got: Array<[string, unknown]> = [];
    for (const name of names) live.on(name, (value) => got.push([name, value]));
    live.start();
    await vi.advanceTimersByTimeAsync(0);
    for (const chunk of chunks) {
      if (typeof chunk === 'string') server.last.push(chunk);
      else server.last.pushBytes(chunk);
      await vi.advanceTimersByTimeAsync(0);
    }
    return { got, server, live };
  }

  it('reassembles events split anywhere across chunks, including inside CRLF', async () => {
    const text = 'event: agent\r\ndata: {"id":"a"}\r\n\r\nevent: call\r\ndata: {"id":"c"}\r\n\r\n';
    for (let cut = 1; cut < text.length; cut += 3) {
      const { got, live } = await receive([text.slice(0, cut), text.slice(cut)]);
      expect(got).toEqual([
        ['agent', { id: 'a' }],
        ['call', { id: 'c' }],
      ]);
      live.stop();
    }
  });

  it('decodes a UTF-8 character split between two network chunks', async () => {
    const bytes = new TextEncoder().encode('event: agent\ndata: {"display_name":"Zoë"}\n\n');
    const split = bytes.indexOf(0xc3) + 1; // inside the two bytes of "ë"
    const { got, live } = await receive([bytes.slice(0, split), bytes.slice(split)]);
    expect(got).toEqual([['agent', { display_name: 'Zoë' }]]);
    live.stop();
  });

  it('joins multi-line data; ignores comments (keep-alives), unknown fields and a BOM', async () => {
    const { got, live } = await receive(['\uFEFF: keep-alive\nfoo: bar\nevent: call\ndata: {"id":\ndata: "c"}\n\n']);
    expect(got).toEqual([['call', { id: 'c' }]]);
    live.stop();
  });

  it('discards half an event when the connection drops, and parses the next connection afresh', async () => {
    const { got, server, live } = await receive(['event: call\ndata: {"id":"half']);
    server.last.close();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(server.connections).toHaveLength(2);
    server.last.push('event: agent\ndata: {"id":"a"}\n\n');
    await vi.advanceTimersByTimeAsync(0);
    expect(got).toEqual([['agent', { id: 'a' }]]);
    live.stop();
  });
});

describe('apiEventStream', () => {
  it('opens GET /api/events with the bearer token and hands back the body stream', async () => {
    let auth: string | null = null;
    const { api } = fakeApi({
      'GET /api/events': (req) => {
        auth = req.headers.get('Authorization');
        return new Response('event: ping\ndata: {}\n\n', { headers: { 'Content-Type': 'text/event-stream' } });
      },
    });
    const result = await apiEventStream(api)(new AbortController().signal);
    expect(auth).toBe('Bearer token-1');
    expect(result.ok).toBe(true);
  });

  it('a 401 is fatal (the middleware signs out); other errors are retried', async () => {
    const { api, expired } = fakeApi({
      'GET /api/events': () => jsonResponse(401, { code: 'unauthorized', message: 'no' }),
    });
    const result = await apiEventStream(api)(new AbortController().signal);
    expect(result).toMatchObject({ ok: false, fatal: true });
    expect(expired()).toBe(1);
    const { api: api2 } = fakeApi({ 'GET /api/events': () => jsonResponse(503, { code: 'unavailable', message: 'x' }) });
    expect(await apiEventStream(api2)(new AbortController().signal)).toMatchObject({ ok: false });
    expect(await apiEventStream(api2)(new AbortController().signal)).not.toHaveProperty('fatal');
  });
});
