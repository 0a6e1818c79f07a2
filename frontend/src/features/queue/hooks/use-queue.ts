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

function loadedCount(pages: QueuePage[]): number {
  return pages.reduce((n, p) => n + p.items.length, 0);
}

/**
 * The waiting queue, a page at a time: `GET /api/queue` gives the longest-waiting callers and the
 * total; every `queue` event carries the first page again and replaces what is shown (dropping
 * later pages, which no longer follow it); `loadMore` appends the next page. Refetched on
 * reconnect with every other query.
 */
export function useQueue() {
  const api = useApi();
  const queryClient = useQueryClient();
  const query = useInfiniteQuery({
    queryKey: QUEUE_KEY,
    initialPageParam: 0,
    queryFn: async ({ pageParam, signal }) =>
      orThrow(
        await settle(api.GET('/api/queue', { params: { query: { limit: QUEUE_PAGE_SIZE, offset: pageParam || undefined } }, signal })),
      ),
    getNextPageParam: (_last, pages) => {
      const loaded = loadedCount(pages);
      const total = pages[pages.length - 1]?.total ?? 0;
      return loaded < total ? loaded : undefined;
    },
  });

  useLiveEvent('queue', (value) => {
    const page: QueuePage = isQueuePage(value) ? value : { items: [], total: 0, limit: QUEUE_PAGE_SIZE, offset: 0 };
    // A load in flight is older than this page: drop it rather than let it overwrite the event.
    void queryClient.cancelQueries({ queryKey: QUEUE_KEY });
    queryClient.setQueryData<InfiniteData<QueuePage, number>>(QUEUE_KEY, { pages: [page], pageParams: [0] });
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
    total: pages?.[pages.length - 1]?.total ?? 0,
    loading: query.isPending,
    loadingMore: query.isFetchingNextPage,
    problem: query.error ?? null,
    reload,
    loadMore,
  };
}
