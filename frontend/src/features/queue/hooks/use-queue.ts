import { useInfiniteQuery, useQueryClient, type InfiniteData } from '@tanstack/react-query';
import { useCallback, useMemo } from 'react';
import { orThrow, settle, useApi, type QueueEntry, type QueuePage } from '@/api';
import { useLiveEvent } from '@/live';

/** Callers fetched per page; the server allows up to 200. */
export const QUEUE_PAGE_SIZE = 50;

export const QUEUE_KEY = ['queue'] as const;

function isQueuePage(value: unknown): value is QueuePage {
  return typeof value === 'object' && value !== null && Array.isArray((value as QueuePage).items);
}

/**
 * The waiting queue, a page at a time: `GET /api/queue` gives the longest-waiting callers and, on
 * the first page, the total; `loadMore` appends the page after the last one's `next_cursor`.
 * Every `queue` event carries the first page again and replaces what is shown (dropping later
 * pages, which no longer follow it). Refetched on reconnect with every other query.
 */
export function useQueue() {
  const api = useApi();
  const queryClient = useQueryClient();
  const query = useInfiniteQuery({
    queryKey: QUEUE_KEY,
    initialPageParam: null as string | null,
    queryFn: async ({ pageParam, signal }) =>
      orThrow(
        await settle(api.GET('/api/queue', { params: { query: { limit: QUEUE_PAGE_SIZE, cursor: pageParam ?? undefined } }, signal })),
      ),
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });

  useLiveEvent('queue', (value) => {
    const page: QueuePage = isQueuePage(value) ? value : { items: [], total: 0, limit: QUEUE_PAGE_SIZE, next_cursor: null };
    // A load in flight is older than this page: drop it rather than let it overwrite the event.
    void queryClient.cancelQueries({ queryKey: QUEUE_KEY });
    queryClient.setQueryData<InfiniteData<QueuePage, string | null>>(QUEUE_KEY, { pages: [page], pageParams: [null] });
  });

  const pages = query.data?.pages;
  const entries = useMemo(() => {
    const seen = new Set<string>();
    const out: QueueEntry[] = [];
    for (const entry of (pages ?? []).flatMap((p) => p.items)) {
      if (seen.has(entry.call_id)) continue;
      seen.add(entry.call_id);
      out.push(entry);
    }
    return out;
  }, [pages]);

  const { refetch, fetchNextPage } = query;
  const reload = useCallback(() => void refetch(), [refetch]);
  const loadMore = useCallback(() => void fetchNextPage(), [fetchNextPage]);

  return {
    entries,
    // The count comes with the first page only (later pages skip it).
    total: pages?.[0]?.total ?? 0,
    loading: query.isPending,
    loadingMore: query.isFetchingNextPage,
    // The last page's `next_cursor` says whether more wait; a count from a moment ago may not.
    hasMore: query.hasNextPage,
    problem: query.error ?? null,
    reload,
    loadMore,
  };
}
