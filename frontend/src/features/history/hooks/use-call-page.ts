import { keepPreviousData, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef } from 'react';
import { orThrow, settle, useApi } from '@/api';
import { useLiveEvent } from '@/live';
import { toQuery, type HistoryFilters } from '../filters';

/** `['calls', 'history', filters, cursor]`: one page of the history under these filters. */
export const callPageKey = (filters: HistoryFilters, cursor: string | null) => ['calls', 'history', filters, cursor] as const;

/** The first page follows live `call` events, refetched at most this often during a busy hour. */
const FIRST_PAGE_REFRESH_MS = 1_000;

/**
 * One page of `GET /api/calls`. While the next page loads the current one stays on screen
 * (`isPlaceholderData`), so the pager never flashes an empty table. The first page also shows new
 * and changing calls without a reload; later pages hold still while the agent reads them.
 */
export function useCallPage(filters: HistoryFilters, cursor: string | null) {
  const api = useApi();
  const queryClient = useQueryClient();
  const query = useQuery({
    queryKey: callPageKey(filters, cursor),
    queryFn: async ({ signal }) => orThrow(await settle(api.GET('/api/calls', { params: { query: toQuery(filters, cursor) }, signal }))),
    placeholderData: keepPreviousData,
  });

  const pending = useRef<ReturnType<typeof setTimeout> | null>(null);
  useLiveEvent('call', () => {
    if (cursor !== null || pending.current) return;
    pending.current = setTimeout(() => {
      pending.current = null;
      void queryClient.invalidateQueries({ queryKey: callPageKey(filters, null), exact: true });
    }, FIRST_PAGE_REFRESH_MS);
  });
  useEffect(
    () => () => {
      if (pending.current) clearTimeout(pending.current);
    },
    [],
  );

  return query;
}
