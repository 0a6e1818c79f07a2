import { backoffDelay, type BackoffOptions } from '@/live/backoff';

export interface IssuedToken {
  token: string;
  /** Epoch ms. */
  expiresAt: number;
}

export interface TokenRefresherOptions {
  /** Fetch a fresh token (`POST /api/voice/token`). */
  fetchToken: () => Promise<IssuedToken>;
  /** Hand it to the device (`device.updateToken`). */
  apply: (token: IssuedToken) => void;
  /** A refresh failed (it is retried while the current token is still valid, and after). */
  onError?: (error: unknown, attempt: number) => void;
  /**
   * Refresh this long before expiry even if the SDK's `tokenWillExpire` (10 s before expiry) never
   * comes, e.g. in a throttled background tab.
   */
  leadMs?: number;
  backoff?: BackoffOptions;
  now?: () => number;
  random?: () => number;
}

export const TOKEN_REFRESH_BACKOFF: BackoffOptions = { initialMs: 1_000, maxMs: 15_000, factor: 2, jitter: 0.2 };

/**
 * When to refresh a token that expires at `expiresAt`: `leadMs` before it, but never sooner than
 * half its remaining life (a short token is not refreshed in a tight loop), and never negative.
 */
export function refreshDelay(expiresAt: number, now: number, leadMs: number): number {
  const remaining = expiresAt - now;
  if (remaining <= 0) return 0;
  return Math.max(remaining - leadMs, Math.floor(remaining / 2));
}

/**
 * Keeps the Voice token fresh. `refresh()` is single-flight: the SDK's `tokenWillExpire`, our own
 * timer and an "access token expired" error arriving together fetch one token. A failed fetch is
 * retried with backoff until one succeeds or `stop()`.
 */
export class TokenRefresher {
  private readonly leadMs: number;
  private readonly backoff: BackoffOptions;
  private readonly now: () => number;
  private readonly random: () => number;
  private current: IssuedToken | null = null;
  private inFlight: Promise<IssuedToken | null> | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private failures = 0;
  private stopped = false;

  constructor(private readonly options: TokenRefresherOptions) {
    this.leadMs = options.leadMs ?? 30_000;
    this.backoff = options.backoff ?? TOKEN_REFRESH_BACKOFF;
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
  }

  get token(): IssuedToken | null {
    return this.current;
  }

  /** Use a token obtained elsewhere (the one the device was created with) and schedule its refresh. */
  adopt(token: IssuedToken): void {
    this.current = token;
    this.schedule();
  }

  /**
   * Fetch and apply a new token. Unless `force`, skips when the current one still has more than
   * `leadMs` to live (the timer and `tokenWillExpire` both fired).
   */
  refresh(force = false): Promise<IssuedToken | null> {
    if (this.stopped) return Promise.resolve(null);
    if (!force && this.current && this.current.expiresAt - this.now() > this.leadMs) {
      return Promise.resolve(this.current);
    }
    if (this.inFlight) return this.inFlight;
    this.clearRetry();
    this.inFlight = this.options
      .fetchToken()
      .then(
        (token) => {
          if (this.stopped) return null;
          this.failures = 0;
          this.current = token;
          this.options.apply(token);
          this.schedule();
          return token;
        },
        (error: unknown) => {
          if (this.stopped) return null;
          const attempt = ++this.failures;
          this.options.onError?.(error, attempt);
          const delay = backoffDelay(attempt - 1, this.backoff, this.random);
          this.retryTimer = setTimeout(() => {
            this.retryTimer = null;
            void this.refresh(true);
          }, delay);
          return null;
        },
      )
      .finally(() => {
        this.inFlight = null;
      });
    return this.inFlight;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.clearRetry();
  }

  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (!this.current || this.stopped) return;
    const delay = refreshDelay(this.current.expiresAt, this.now(), this.leadMs);
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.refresh(true);
    }, Math.min(delay, 2 ** 31 - 1));
  }

  private clearRetry(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }
}
