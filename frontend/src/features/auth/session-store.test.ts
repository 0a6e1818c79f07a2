import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { makeAgent, makeLogin, MemoryStorage } from '@/testing/fixtures';
import {
  createSessionStore,
  SESSION_EXPIRED_NOTICE,
  SESSION_STORAGE_KEY,
  SIGNED_OUT_ELSEWHERE_NOTICE,
  type SessionStore,
} from './session-store';

const T0 = Date.parse('2026-03-01T12:00:00Z');
const HOUR = 3_600_000;

describe('session store', () => {
  let storage: MemoryStorage;
  const stores: SessionStore[] = [];
  const make = (opts: Parameters<typeof createSessionStore>[0] = {}) => {
    const store = createSessionStore({ storage, ...opts });
    stores.push(store);
    return store;
  };

  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(T0);
    storage = new MemoryStorage();
  });

  afterEach(() => {
    stores.splice(0).forEach((s) => s.dispose());
    vi.useRealTimers();
  });

  it('starts signed out with empty storage', () => {
    const store = make();
    expect(store.getState()).toEqual({ session: null, notice: null });
    expect(store.getToken()).toBeNull();
  });

  it('signs in, exposes the token and persists the session', () => {
    const store = make();
    store.signIn(makeLogin(new Date(T0 + HOUR)));
    expect(store.getToken()).toBe('token-1');
    expect(store.getState().session).toMatchObject({ token: 'token-1', expiresAt: T0 + HOUR });
    expect(store.getState().session?.agent.display_name).toBe('Ada Lovelace');
    expect(JSON.parse(storage.getItem(SESSION_STORAGE_KEY)!)).toMatchObject({
      v: 1,
      token: 'token-1',
      expires_at: new Date(T0 + HOUR).toISOString(),
    });
  });

  it('restores the session after a reload (a new store on the same storage)', () => {
    make().signIn(makeLogin(new Date(T0 + HOUR)));
    const reloaded = make();
    expect(reloaded.getToken()).toBe('token-1');
    expect(reloaded.getState().session?.agent.email).toBe('ada@example.com');
  });

  it('discards a stored session that expired while the page was closed', () => {
    make().signIn(makeLogin(new Date(T0 + HOUR)));
    vi.setSystemTime(T0 + HOUR + 1);
    const reloaded = make();
    expect(reloaded.getState()).toEqual({ session: null, notice: SESSION_EXPIRED_NOTICE });
    expect(storage.getItem(SESSION_STORAGE_KEY)).toBeNull();
  });

  it('treats expires_at as exclusive: at the exact instant the session is over', () => {
    const store = make();
    store.signIn(makeLogin(new Date(T0 + 1000)));
    vi.setSystemTime(T0 + 999);
    expect(store.getToken()).toBe('token-1');
    vi.setSystemTime(T0 + 1000);
    expect(store.getToken()).toBeNull();
    expect(store.getState().notice).toBe(SESSION_EXPIRED_NOTICE);
  });

  it('signs out by itself when the expiry time passes, and notifies subscribers', () => {
    const store = make();
    const listener = vi.fn();
    store.subscribe(listener);
    store.signIn(makeLogin(new Date(T0 + 30_000)));
    listener.mockClear();

    vi.advanceTimersByTime(29_999);
    expect(store.getState().session).not.toBeNull();
    vi.advanceTimersByTime(1);
    expect(store.getState()).toEqual({ session: null, notice: SESSION_EXPIRED_NOTICE });
    expect(listener).toHaveBeenCalledTimes(1);
    expect(storage.getItem(SESSION_STORAGE_KEY)).toBeNull();
  });

  it('handles expiries beyond the 24.8-day setTimeout limit', () => {
    const store = make();
    const far = T0 + 40 * 24 * HOUR;
    store.signIn(makeLogin(new Date(far)));
    vi.advanceTimersByTime(2 ** 31 - 1);
    expect(store.getState().session).not.toBeNull();
    vi.advanceTimersByTime(far - T0 - (2 ** 31 - 1));
    expect(store.getState().session).toBeNull();
  });

  it('restarts the expiry timer for a restored session', () => {
    make().signIn(makeLogin(new Date(T0 + 5_000)));
    const reloaded = make();
    vi.advanceTimersByTime(5_000);
    expect(reloaded.getState().notice).toBe(SESSION_EXPIRED_NOTICE);
  });

  it('a new sign-in replaces the old expiry timer', () => {
    const store = make();
    store.signIn(makeLogin(new Date(T0 + 1_000)));
    store.signIn(makeLogin(new Date(T0 + HOUR), { token: 'token-2' }));
    vi.advanceTimersByTime(2_000);
    expect(store.getToken()).toBe('token-2');
  });

  it('signOut clears memory and storage and carries an optional notice', () => {
    const store = make();
    store.signIn(makeLogin(new Date(T0 + HOUR)));
    store.signOut();
    expect(store.getState()).toEqual({ session: null, notice: null });
    expect(storage.getItem(SESSION_STORAGE_KEY)).toBeNull();
    store.signOut('Bye');
    expect(store.getState().notice).toBe('Bye');
    store.clearNotice();
    expect(store.getState().notice).toBeNull();
  });

  it('expire() signs out with the session-expired notice', () => {
    const store = make();
    store.signIn(makeLogin(new Date(T0 + HOUR)));
    store.expire();
    expect(store.getState()).toEqual({ session: null, notice: SESSION_EXPIRED_NOTICE });
  });

  it('updateAgent persists the new agent and is ignored when signed out', () => {
    const store = make();
    store.updateAgent(makeAgent({ status: 'available' }));
    expect(store.getState().session).toBeNull();

    store.signIn(makeLogin(new Date(T0 + HOUR)));
    store.updateAgent(makeAgent({ status: 'available' }));
    expect(store.getState().session?.agent.status).toBe('available');
    expect(make().getState().session?.agent.status).toBe('available');
  });

  it('keeps getState() referentially stable between changes (useSyncExternalStore)', () => {
    const store = make();
    store.signIn(makeLogin(new Date(T0 + HOUR)));
    expect(store.getState()).toBe(store.getState());
  });

  it.each([
    ['not JSON', '{oops'],
    ['wrong version', JSON.stringify({ v: 2, token: 't', expires_at: null, agent: makeAgent() })],
    ['no token', JSON.stringify({ v: 1, token: '', expires_at: null, agent: makeAgent() })],
    ['no agent', JSON.stringify({ v: 1, token: 't', expires_at: null })],
  ])('ignores and removes unreadable stored data (%s)', (_name, raw) => {
    storage.setItem(SESSION_STORAGE_KEY, raw);
    const store = make();
    expect(store.getState().session).toBeNull();
    expect(storage.getItem(SESSION_STORAGE_KEY)).toBeNull();
  });

  it('keeps a session whose expires_at cannot be parsed until the server rejects it', () => {
    const store = make();
    store.signIn(makeLogin('not a date'));
    vi.advanceTimersByTime(365 * 24 * HOUR);
    expect(store.getToken()).toBe('token-1');
  });

  it('works without storage, and survives a storage that throws', () => {
    const memoryOnly = createSessionStore({ storage: null });
    memoryOnly.signIn(makeLogin(new Date(T0 + HOUR)));
    expect(memoryOnly.getToken()).toBe('token-1');
    memoryOnly.dispose();

    const broken = new MemoryStorage();
    broken.setItem = () => {
      throw new DOMException('full', 'QuotaExceededError');
    };
    const store = make({ storage: broken });
    store.signIn(makeLogin(new Date(T0 + HOUR)));
    expect(store.getToken()).toBe('token-1');
  });

  it('follows sign-in and sign-out from other tabs via storage events', () => {
    const events = new EventTarget();
    const store = make({ storageEvents: events as unknown as Window });
    const other = make(); // another tab, same storage

    other.signIn(makeLogin(new Date(T0 + HOUR), { token: 'from-other-tab' }));
    events.dispatchEvent(new StorageEvent('storage', { key: SESSION_STORAGE_KEY }));
    expect(store.getToken()).toBe('from-other-tab');

    other.signOut();
    events.dispatchEvent(new StorageEvent('storage', { key: SESSION_STORAGE_KEY }));
    expect(store.getState()).toEqual({ session: null, notice: SIGNED_OUT_ELSEWHERE_NOTICE });

    // Unrelated keys are ignored.
    other.signIn(makeLogin(new Date(T0 + HOUR)));
    events.dispatchEvent(new StorageEvent('storage', { key: 'something-else' }));
    expect(store.getState().session).toBeNull();
  });

  it('unsubscribe and dispose stop notifications', () => {
    const store = make();
    const listener = vi.fn();
    const unsubscribe = store.subscribe(listener);
    unsubscribe();
    store.signIn(makeLogin(new Date(T0 + 1_000)));
    expect(listener).not.toHaveBeenCalled();

    const again = vi.fn();
    store.subscribe(again);
    store.dispose();
    vi.advanceTimersByTime(5_000);
    expect(again).not.toHaveBeenCalled();
  });
});
