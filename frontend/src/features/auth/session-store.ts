import type { Agent, LoginResponse } from '@/api/types';

/**
 * The signed-in session: bearer token, its expiry, and the agent it belongs to.
 *
 * Kept in `localStorage` so a reload (or a second tab) keeps the agent signed in, and dropped as
 * soon as it expires: on load, on a timer set for `expires_at`, and whenever the token is read.
 * A tiny external store so React reads it with `useSyncExternalStore` and non-React code (the
 * API middleware) can use it directly.
 */
export interface Session {
  token: string;
  /** Expiry as epoch milliseconds; `null` when the server sent no usable time. */
  expiresAt: number | null;
  agent: Agent;
}

export interface SessionState {
  session: Session | null;
  /** A one-off message for the sign-in page, e.g. why the agent was signed out. */
  notice: string | null;
}

export interface SessionStore {
  getState(): SessionState;
  subscribe(listener: () => void): () => void;
  /** The current bearer token, or `null` when signed out or expired (expiring it on the spot). */
  getToken(): string | null;
  signIn(login: LoginResponse): void;
  /** Replace the stored agent (after `GET /api/me`, a status change, ...). Ignored when signed out. */
  updateAgent(agent: Agent): void;
  signOut(notice?: string | null): void;
  /** The server said the session is no longer valid, or it ran out: sign out with a message. */
  expire(): void;
  clearNotice(): void;
  /** Stop timers and listeners (tests, hot reload). */
  dispose(): void;
}

export interface SessionStoreOptions {
  /** Where the session is persisted; `null` keeps it in memory only. */
  storage?: Storage | null;
  key?: string;
  now?: () => number;
  /**
   * Where `storage` events arrive from (normally `window`) so that signing in or out in one tab
   * does the same in the others. Omit to disable.
   */
  storageEvents?: Pick<Window, 'addEventListener' | 'removeEventListener'> | null;
}

export const SESSION_STORAGE_KEY = 'warm-transfer.session';
export const SESSION_EXPIRED_NOTICE = 'Your session has expired. Please sign in again.';
export const SIGNED_OUT_ELSEWHERE_NOTICE = 'You were signed out in another tab.';

/** setTimeout's delay is a signed 32-bit number of ms; longer delays fire at once. */
const MAX_TIMER_DELAY = 2 ** 31 - 1;

interface PersistedSession {
  v: 1;
  token: string;
  expires_at: string | null;
  agent: Agent;
}

function parseExpiry(value: unknown): number | null {
  if (typeof value !== 'string') return null;
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? ms : null;
}

function isAgentLike(value: unknown): value is Agent {
  if (typeof value !== 'object' || value === null) return false;
  const a = value as Record<string, unknown>;
  return typeof a.id === 'string' && typeof a.display_name === 'string' && typeof a.role === 'string';
}

function decode(raw: string | null): Session | null {
  if (!raw) return null;
  let data: unknown;
  try {
    data = JSON.parse(raw);
  } catch {
    return null;
  }
  if (typeof data !== 'object' || data === null) return null;
  const p = data as Partial<PersistedSession>;
  if (p.v !== 1 || typeof p.token !== 'string' || p.token === '' || !isAgentLike(p.agent)) return null;
  return { token: p.token, expiresAt: parseExpiry(p.expires_at), agent: p.agent };
}

function encode(session: Session): string {
  const persisted: PersistedSession = {
    v: 1,
    token: session.token,
    expires_at: session.expiresAt === null ? null : new Date(session.expiresAt).toISOString(),
    agent: session.agent,
  };
  return JSON.stringify(persisted);
}

export function createSessionStore(options: SessionStoreOptions = {}): SessionStore {
  const storage = options.storage ?? null;
  const key = options.key ?? SESSION_STORAGE_KEY;
  const now = options.now ?? Date.now;
  const events = options.storageEvents ?? null;

  const listeners = new Set<() => void>();
  let timer: ReturnType<typeof setTimeout> | null = null;
  let state: SessionState = { session: null, notice: null };

  const isExpired = (session: Session) => session.expiresAt !== null && session.expiresAt <= now();

  function read(): string | null {
    try {
      return storage?.getItem(key) ?? null;
    } catch {
      return null;
    }
  }

  function write(session: Session | null) {
    try {
      if (session) storage?.setItem(key, encode(session));
      else storage?.removeItem(key);
    } catch {
      // Storage full or blocked (private mode): the session still works for this page.
    }
  }

  function emit() {
    for (const listener of [...listeners]) listener();
  }

  function setState(next: SessionState) {
    state = next;
    schedule();
    emit();
  }

  function schedule() {
    if (timer !== null) clearTimeout(timer);
    timer = null;
    const session = state.session;
    if (!session || session.expiresAt === null) return;
    const delay = Math.max(0, Math.min(session.expiresAt - now(), MAX_TIMER_DELAY));
    timer = setTimeout(() => {
      timer = null;
      if (state.session === session && isExpired(session)) expire();
      else if (state.session === session) schedule(); // the delay was capped; wait again
    }, delay);
  }

  function signOut(notice: string | null = null) {
    write(null);
    setState({ session: null, notice });
  }

  function expire() {
    signOut(SESSION_EXPIRED_NOTICE);
  }

  function onStorage(event: StorageEvent) {
    if (event.key !== key && event.key !== null) return; // null: storage.clear() elsewhere
    const incoming = decode(read());
    const current = state.session;
    if (incoming && !isExpired(incoming)) {
      if (current && current.token === incoming.token && encode(current) === encode(incoming)) return;
      setState({ session: incoming, notice: null });
    } else if (current) {
      const notice = isExpired(current) ? SESSION_EXPIRED_NOTICE : SIGNED_OUT_ELSEWHERE_NOTICE;
      setState({ session: null, notice });
    }
  }

  // Load what a previous page left behind, discarding it if it has run out meanwhile.
  const loaded = decode(read());
  if (loaded && !isExpired(loaded)) {
    state = { session: loaded, notice: null };
    schedule();
  } else if (loaded) {
    write(null);
    state = { session: null, notice: SESSION_EXPIRED_NOTICE };
  } else if (read() !== null) {
    write(null); // unreadable leftovers (an older format): start clean
  }
  events?.addEventListener('storage', onStorage as EventListener);

  return {
    getState: () => state,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    getToken() {
      const session = state.session;
      if (!session) return null;
      if (isExpired(session)) {
        expire();
        return null;
      }
      return session.token;
    },
    signIn(login) {
      const session: Session = {
        token: login.token,
        expiresAt: parseExpiry(login.expires_at),
        agent: login.agent,
      };
      write(session);
      setState({ session, notice: null });
    },
    updateAgent(agent) {
      const session = state.session;
      if (!session) return;
      const next = { ...session, agent };
      write(next);
      setState({ ...state, session: next });
    },
    signOut,
    expire,
    clearNotice() {
      if (state.notice !== null) setState({ ...state, notice: null });
    },
    dispose() {
      if (timer !== null) clearTimeout(timer);
      timer = null;
      listeners.clear();
      events?.removeEventListener('storage', onStorage as EventListener);
    },
  };
}

/** `window.localStorage` when it can be used, otherwise `null` (memory-only sessions). */
export function browserStorage(): Storage | null {
  try {
    if (typeof window === 'undefined' || !window.localStorage) return null;
    const probe = '__warm_transfer_probe__';
    window.localStorage.setItem(probe, probe);
    window.localStorage.removeItem(probe);
    return window.localStorage;
  } catch {
    return null;
  }
}
