import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useCallback } from 'react';
import { orThrow, settle, useApi, type CallSummary } from '@/api';
import { useLiveEvent } from '@/live';
import { applyCallEvent } from '../board-model';

export const BOARD_CALLS_KEY = ['board', 'calls'] as const;

/**
 * Every live call with what it is doing now: `GET /api/board/calls` once (and, with every other
 * query, on reconnect), then each live `call` event replaces its call in the cache (or removes it
 * once over). No polling.
 */
export function useBoardCalls() {
  const api = useApi();
  const queryClient = useQueryClient();
  const query = useQuery({
    queryKey: BOARD_CALLS_KEY,
    queryFn: async ({ signal }) => orThrow(await settle(api.GET('/api/board/calls', { signal }))),
  });
  useLiveEvent('call', (call) =>
    queryClient.setQueryData<CallSummary[]>(BOARD_CALLS_KEY, (list) => (list ? applyCallEvent(list, call) : list)),
  );
  const { refetch } = query;
  const reload = useCallback(() => void refetch(), [refetch]);
  return { calls: query.data ?? [], loading: query.isPending, problem: query.error ?? null, reload };
}
