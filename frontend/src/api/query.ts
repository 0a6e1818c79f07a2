import { QueryClient } from '@tanstack/react-query';
import type { ApiProblem, ApiResult } from './errors';

declare module '@tanstack/react-query' {
  interface Register {
    /** Query functions throw the API's problem (see `orThrow`), so `error` is always one. */
    defaultError: ApiProblem;
  }
}

/**
 * The server-state cache for one page. Server state is kept current by the live event stream (and
 * refetched on every reconnect), not by window focus or blind retries: a failed load shows its
 * problem at once, as the panels always did.
 */
export function createQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: { retry: false, refetchOnWindowFocus: false, refetchOnReconnect: false },
      mutations: { retry: false },
    },
  });
}

/** A query function's body: the data, or the problem thrown for TanStack Query to keep. */
export function orThrow<T>(result: ApiResult<T>): T {
  if (result.ok) return result.data;
  throw result.problem;
}
