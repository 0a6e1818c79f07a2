import type { AgentView, ApiClient, CallSummary, QueuePage } from '@/api';
import { backoffDelay, DEFAULT_BACKOFF, type BackoffOptions } from './backoff';
import { createParser, type EventSourceMessage } from 'eventsource-parser';

/** What `GET /api/events` sends, by event name. */
export interface LiveEventMap {
  agent: AgentView;
  queue: QueuePage;
  call: CallSummary;
  ping: unknown;
}
export type LiveEventName = keyof LiveEventMap;

export type LiveState = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'stopped';

export interface LiveStatus {
  state: LiveState;
  /** Failed connection attempts in a row. */
  attempt: number;
  /** When the next attempt starts (epoch ms), while `reconnecting`. */
  retryAt: number | null;
  /** Why the last connection failed or dropped. */
  lastError: string | null;
}

export type OpenResult =
  | { ok: true; stream: ReadableStream<Uint8Array> }
  /** `fatal`: do not retry (e.g. the session is gone; the API middleware signs the agent out). */
  | { ok: false; message: string; fatal?: boolean };

/** Opens one connection to the event stream. Must honour `signal`. */
export type OpenStream = (signal: AbortSignal) => Promise<OpenResult>;

export interface LiveEventsOptions {
  open: OpenStream;
  backoff?: BackoffOptions;
  /**
   * Reconnect when nothing (not even a `ping`) arrived for this long: a half-open TCP connection
   * otherwise looks alive forever.
   */
  idleTimeoutMs?: number;
  /** A connection that lived this long (or delivered an event) resets the backoff. */
  stableAfterMs?: number;
  now?: () => number;
  random?: () => number;
  /** Logged malformed events go here (tests). */
  onBadEvent?: (event: EventSourceMessage, error: unknown) => void;
}

type Listener<T> = (value: T) => void;

/**
 * The live connection to `GET /api/events`: one per signed-in page, shared by every panel.
 * Opened with `fetch` (through the API client, which adds `Authorization: Bearer …`; the browser's
 * `EventSource` cannot send headers) and parsed with `eventsource-parser`.
 * Reconnects with exponential backoff (and jitter) after a drop, a server error or silence;
 * `onOpen` listeners run on every (re)connect so panels can reload what they may have missed.
 */
export class LiveEvents {
  private readonly options: Required<Omit<LiveEventsOptions, 'onBadEvent'>> & Pick<LiveEventsOptions, 'onBadEvent'>;
  private readonly listeners = new Map<string, Set<Listener<never>>>();
  private readonly openListeners = new Set<() => void>();
  private readonly statusListeners = new Set<() => void>();
  private statusValue: LiveStatus = { state: 'idle', attempt: 0, retryAt: null, lastError: null };
  private running = false;
  private controller: AbortController | null = null;
  private reader: ReadableStreamDefaultReader<Uint8Array> | null = null;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private idleTimer: ReturnType<typeof setTimeout> | null = null;
  private generation = 0;

  constructor(options: LiveEventsOptions) {
    this.options = {
      backoff: DEFAULT_BACKOFF,
      idleTimeoutMs: 45_000, // the server pings every 15 s
      stableAfterMs: 10_000,
      now: Date.now,
      random: Math.random,
      ...options,
    };
  }

  get status(): LiveStatus {
    return this.statusValue;
  }

  getStatus = (): LiveStatus => this.statusValue;

  subscribeStatus = (listener: () => void): (() => void) => {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  };

  on<K extends LiveEventName>(name: K, listener: Listener<LiveEventMap[K]>): () => void {
    let set = this.listeners.get(name);
    if (!set) this.listeners.set(name, (set = new Set()));
    set.add(listener as Listener<never>);
    return () => set.delete(listener as Listener<never>);
  }

  /** Runs on every successful (re)connect. */
  onOpen(listener: () => void): () => void {
    this.openListeners.add(listener);
    return () => this.openListeners.delete(listener);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.statusValue = { state: 'idle', attempt: 0, retryAt: null, lastError: null };
    void this.connect();
  }

  stop(): void {
    this.running = false;
    this.generation++;
    this.clearTimers();
    this.controller?.abort();
    this.controller = null;
    void this.reader?.cancel().catch(() => {});
    this.reader = null;
    this.setStatus({ state: 'stopped', retryAt: null });
  }

  /** Skip the wait (the browser came back online, the agent clicked "Reconnect"). */
  reconnectNow(): void {
    if (!this.running) return;
    if (this.statusValue.state === 'open' || this.statusValue.state === 'connecting') return;
    this.clearTimers();
    this.setStatus({ attempt: 0 });
    void this.connect();
  }

  private async connect(): Promise<void> {
    const generation = ++this.generation;
    const controller = new AbortController();
    this.controller = controller;
    this.setStatus({ state: this.statusValue.attempt === 0 ? 'connecting' : 'reconnecting', retryAt: null });

    let result: OpenResult;
    try {
      result = await this.options.open(controller.signal);
    } catch (err) {
      result = { ok: false, message: errorMessage(err) };
    }
    if (generation !== this.generation) {
      if (result.ok) void result.stream.cancel().catch(() => {});
      return;
    }
    if (!result.ok) {
      if (result.fatal) {
        this.running = false;
        this.setStatus({ state: 'stopped', retryAt: null, lastError: result.message });
        return;
      }
      this.scheduleReconnect(result.message, false);
      return;
    }

    const openedAt = this.options.now();
    let delivered = false;
    this.setStatus({ state: 'open', retryAt: null, lastError: null });
    for (const listener of [...this.openListeners]) safely(listener);

    // A fresh parser per connection: half an event left by a dropped one is discarded.
    const parser = createParser({
      onEvent: (event) => {
        if (generation !== this.generation) return;
        delivered = true;
        this.dispatch(event);
      },
    });
    const reader = result.stream.getReader();
    this.reader = reader;
    const decoder = new TextDecoder();
    let reason = 'The live connection closed.';
    let silent = false;
    const onSilence = () => {
      silent = true;
      controller.abort();
      void reader.cancel().catch(() => {});
    };
    this.armIdle(onSilence);
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (generation !== this.generation) return;
        if (done) break;
        this.armIdle(onSilence);
        parser.feed(decoder.decode(value, { stream: true }));
      }
    } catch (err) {
      if (generation !== this.generation) return;
      reason = errorMessage(err);
    } finally {
      if (this.idleTimer) clearTimeout(this.idleTimer);
      if (this.reader === reader) this.reader = null;
    }
    if (generation !== this.generation || !this.running) return;
    if (silent) reason = 'No live updates for a while.';
    controller.abort();
    const stable = delivered || this.options.now() - openedAt >= this.options.stableAfterMs;
    this.scheduleReconnect(reason, stable);
  }

  private scheduleReconnect(message: string, resetBackoff: boolean): void {
    if (!this.running) return;
    const attempt = resetBackoff ? 0 : this.statusValue.attempt;
    const delay = backoffDelay(attempt, this.options.backoff, this.options.random);
    this.setStatus({
      state: 'reconnecting',
      attempt: attempt + 1,
      retryAt: this.options.now() + delay,
      lastError: message,
    });
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.connect();
    }, delay);
  }

  private armIdle(onSilence: () => void): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(onSilence, this.options.idleTimeoutMs);
  }

  private dispatch(event: EventSourceMessage): void {
    // An event without a name is a `message` (as in EventSource).
    const set = this.listeners.get(event.event ?? 'message');
    if (!set || set.size === 0) return;
    let payload: unknown = undefined;
    if (event.data.trim() !== '') {
      try {
        payload = JSON.parse(event.data);
      } catch (err) {
        this.options.onBadEvent?.(event, err);
        return;
      }
    }
    for (const listener of [...set]) safely(() => (listener as Listener<unknown>)(payload));
  }

  private clearTimers(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.retryTimer = null;
    this.idleTimer = null;
  }

  private setStatus(patch: Partial<LiveStatus>): void {
    this.statusValue = { ...this.statusValue, ...patch };
    for (const listener of [...this.statusListeners]) safely(listener);
  }
}

function safely(fn: () => void): void {
  try {
    fn();
  } catch (err) {
    console.error(err);
  }
}

function errorMessage(err: unknown): string {
  if (err instanceof Error && err.message) return err.message;
  return 'The live connection failed.';
}

/**
 * `OpenStream` over the typed API client (so the auth middleware adds the bearer token and a 401
 * signs the agent out).
 */
export function apiEventStream(api: ApiClient): OpenStream {
  return async (signal) => {
    try {
      const { data, response } = await api.GET('/api/events', {
        parseAs: 'stream',
        signal,
        headers: { Accept: 'text/event-stream' },
      });
      if (response.ok && data) return { ok: true, stream: data };
      if (response.status === 401 || response.status === 403) {
        return { ok: false, fatal: true, message: 'Live updates need a valid session.' };
      }
      return { ok: false, message: `Live updates unavailable (HTTP ${response.status}).` };
    } catch {
      if (signal.aborted) return { ok: false, message: 'Cancelled.' };
      return { ok: false, message: 'Cannot reach the server for live updates.' };
    }
  };
}
