import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useCallback, useMemo } from 'react';
import { orThrow, settle, useApi, type CallSummary } from '@/api';
import { useLiveEvent } from '@/live';

const LIVE = new Set<CallSummary['status']>(['queued', 'ringing', 'in_progress']);
const LIVE_CALLS_KEY = ['calls', 'live'] as const;

/** Calls not yet over, kept current by live `call` events (for supervisors). */
export function useLiveCalls() {
  const api = useApi();
  const queryClient = useQueryClient();
  const query = useQuery({
    queryKey: LIVE_CALLS_KEY,
    queryFn: async ({ signal }) => {
      const pages = await Promise.all(
        (['in_progress', 'ringing', 'queued'] as const).map(async (status) =>
          orThrow(await settle(api.GET('/api/calls', { params: { query: { status, limit: 100 } }, signal }))),
        ),
      );
      return pages.flatMap((page) => page.items);
    },
  });

  useLiveEvent('call', (call) => {
    queryClient.setQueryData<CallSummary[]>(LIVE_CALLS_KEY, (list) => {
      const rest = (list ?? []).filter((c) => c.id !== call.id);
      return LIVE.has(call.status) ? [call, ...rest] : rest;
    });
  });

  const { refetch } = query;
  const reload = useCallback(() => void refetch(), [refetch]);
  const calls = useMemo(
    () => (query.data ?? []).slice().sort((a, b) => a.created_at.localeCompare(b.created_at)),
    [query.data],
  );
  return { calls, problem: query.error ?? null, reload };
}
