import { useCallback, useEffect, useRef, useState } from 'react';
import { settle, useApi, type ApiProblem, type QueueEntry, type QueuePage } from '@/api';
import { useLiveEvent, useLiveReconnect } from '@/live';

/** Callers fetched per page; the server allows up to 200. */
export const QUEUE_PAGE_SIZE = 50;

function isQueuePage(value: unknown): value is QueuePage {
  return typeof value === 'object' && value !== null && Array.isArray((value as QueuePage).items);
}

/**
 * The waiting queue, a page at a time: `GET /api/queue` gives the longest-waiting callers and the
 * total; every `queue` event carries the first page again and replaces what is shown; `loadMore`
 * appends the next page. Reloaded on reconnect.
 */
export function useQueue() {
  const api = useApi();
  const [entries, setEntries] = useState<QueueEntry[]>([]);
  const [total, setTotal] = useState(0);
  const [loading, setLoading] = useState(true);
  const [loadingMore, setLoadingMore] = useState(false);
  const [problem, setProblem] = useState<ApiProblem | null>(null);
  const generation = useRef(0);

  const reload = useCallback(() => {
    const mine = ++generation.current;
    void settle(api.GET('/api/queue', { params: { query: { limit: QUEUE_PAGE_SIZE } } })).then((result) => {
      if (mine !== generation.current) return;
      setLoading(false);
      if (result.ok) {
        setEntries(result.data.items);
        setTotal(result.data.total);
        setProblem(null);
      } else if (result.problem.code !== 'aborted') {
        setProblem(result.problem);
      }
    });
  }, [api]);

  const loadMore = useCallback(() => {
    const mine = generation.current;
    setLoadingMore(true);
    void settle(
      api.GET('/api/queue', { params: { query: { limit: QUEUE_PAGE_SIZE, offset: entries.length } } }),
    ).then((result) => {
      setLoadingMore(false);
      // A newer first page replaced the list meanwhile: this page no longer follows it.
      if (mine !== generation.current) return;
      if (result.ok) {
        setEntries((shown) => {
          const seen = new Set(shown.map((e) => e.call_id));
          return [...shown, ...result.data.items.filter((e) => !seen.has(e.call_id))];
        });
        setTotal(result.data.total);
      } else if (result.problem.code !== 'aborted') {
        setProblem(result.problem);
      }
    });
  }, [api, entries.length]);

  useEffect(() => {
    reload();
    return () => {
      generation.current++;
    };
  }, [reload]);
  useLiveReconnect(reload);
  useLiveEvent('queue', (page) => {
    generation.current++; // a reload in flight is older than this
    if (isQueuePage(page)) {
      setEntries(page.items);
      setTotal(page.total);
    } else {
      setEntries([]);
      setTotal(0);
    }
    setLoading(false);
  });

  return { entries, total, loading, loadingMore, problem, reload, loadMore };
}
