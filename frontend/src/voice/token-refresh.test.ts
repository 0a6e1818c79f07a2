import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { refreshDelay, TokenRefresher, type IssuedToken } from './token-refresh';

describe('refreshDelay', () => {
  it('refreshes lead time before expiry', () => {
    expect(refreshDelay(3_600_000, 0, 30_000)).toBe(3_570_000);
  });
  it('never refreshes a short token sooner than half its life', () => {
    expect(refreshDelay(40_000, 0, 30_000)).toBe(20_000);
  });
  it('refreshes at once when already expired', () => {
    expect(refreshDelay(1_000, 5_000, 30_000)).toBe(0);
  });
});

describe('TokenRefresher', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(0);
  });
  afterEach(() => vi.useRealTimers());

  function setup(fetchToken: () => Promise<IssuedToken>) {
    const applied: string[] = [];
    const errors: number[] = [];
    const refresher = new TokenRefresher({
      fetchToken,
      apply: (t) => applied.push(t.token),
      onError: (_e, attempt) => errors.push(attempt),
      leadMs: 30_000,
      random: () => 0.5,
      backoff: { initialMs: 1_000, maxMs: 8_000, factor: 2, jitter: 0 },
    });
    return { refresher, applied, errors };
  }

  it('refreshes on its own timer before expiry and applies the new token', async () => {
    let n = 0;
    const fetchToken = vi.fn(async () => ({ token: `t${++n}`, expiresAt: Date.now() + 3_600_000 }));
    const { refresher, applied } = setup(fetchToken);
    refresher.adopt({ token: 't0', expiresAt: 3_600_000 });
    await vi.advanceTimersByTimeAsync(3_569_000);
    expect(fetchToken).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(applied).toEqual(['t1']);
    // ...and schedules the next one from the new expiry.
    await vi.advanceTimersByTimeAsync(3_570_000);
    expect(applied).toEqual(['t1', 't2']);
    refresher.stop();
  });

  it('fetches once when tokenWillExpire, the timer and an expiry error coincide', async () => {
    let resolve!: (t: IssuedToken) => void;
    const fetchToken = vi.fn(() => new Promise<IssuedToken>((r) => (resolve = r)));
    const { refresher, applied } = setup(fetchToken);
    refresher.adopt({ token: 't0', expiresAt: 10_000 });
    const a = refresher.refresh(true);
    const b = refresher.refresh(true);
    const c = refresher.refresh();
    expect(fetchToken).toHaveBeenCalledTimes(1);
    resolve({ token: 't1', expiresAt: 3_600_000 });
    await Promise.all([a, b, c]);
    expect(applied).toEqual(['t1']);
    refresher.stop();
  });

  it('skips a non-forced refresh while the token is fresh', async () => {
    const fetchToken = vi.fn(async () => ({ token: 'x', expiresAt: 0 }));
    const { refresher } = setup(fetchToken);
    refresher.adopt({ token: 't0', expiresAt: 3_600_000 });
    await refresher.refresh();
    expect(fetchToken).not.toHaveBeenCalled();
    refresher.stop();
  });

  it('retries a failed refresh with growing delays until it succeeds', async () => {
    let calls = 0;
    const fetchToken = vi.fn(async () => {
      calls++;
      if (calls <= 3) throw new Error('503');
      return { token: 'ok', expiresAt: Date.now() + 3_600_000 };
    });
    const { refresher, applied, errors } = setup(fetchToken);
    await refresher.refresh(true);
    expect(errors).toEqual([1]);
    await vi.advanceTimersByTimeAsync(999);
    expect(calls).toBe(1);
    await vi.advanceTimersByTimeAsync(1); // 1 s
    expect(calls).toBe(2);
    await vi.advanceTimersByTimeAsync(2_000); // 2 s
    expect(calls).toBe(3);
    await vi.advanceTimersByTimeAsync(4_000); // 4 s
    expect(calls).toBe(4);
    expect(errors).toEqual([1, 2, 3]);
    expect(applied).toEqual(['ok']);
    refresher.stop();
  });

  it('stop() cancels timers and pending retries', async () => {
    const fetchToken = vi.fn(async () => {
      throw new Error('down');
    });
    const { refresher } = setup(fetchToken);
    await refresher.refresh(true);
    refresher.stop();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(fetchToken).toHaveBeenCalledTimes(1);
  });
});
