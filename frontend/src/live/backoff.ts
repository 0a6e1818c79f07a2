export interface BackoffOptions {
  /** Delay before the first retry. */
  initialMs: number;
  /** Ceiling for any delay. */
  maxMs: number;
  /** Growth per attempt. */
  factor: number;
  /**
   * Share of each delay that is random (0..1), so a room of browsers that lost the server at the
   * same moment do not all come back in the same millisecond.
   */
  jitter: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 1_000, maxMs: 30_000, factor: 2, jitter: 0.5 };

/** The delay before retry number `attempt` (0-based): exponential, capped, with jitter. */
export function backoffDelay(attempt: number, options: BackoffOptions = DEFAULT_BACKOFF, random = Math.random): number {
  const base = Math.min(options.maxMs, options.initialMs * options.factor ** Math.max(0, attempt));
  const jitter = Math.min(1, Math.max(0, options.jitter));
  return Math.round(base * (1 - jitter) + base * jitter * random());
}
