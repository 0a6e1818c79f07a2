import { useCallback, useEffect, useRef, useState } from 'react';
import { settle, useApi, type ApiProblem, type QueueEntry } from '@/api';
import { useLiveEvent, useLiveReconnect } from '@/live';

/** The waiting queue: `GET /api/queue`, replaced by every `queue` event, reloaded on reconnect. */
export function useQueue() {
  const api = useApi();
  const [entries, setEntries] = useState<QueueEntry[]>([]);
  const [loading, setLoading] = useState(true);
  const [problem, setProblem] = useState<ApiProblem | null>(null);
  const generation = useRef(0);

  const reload = useCallback(() => {
    const mine = ++generation.current;
    void settle(api.GET('/api/queue')).then((result) => {
      if (mine !== generation.current) return;
      setLoading(false);
      if (result.ok) {
        setEntries(result.data);
        setProblem(null);
      } else if (result.problem.code !== 'aborted') {
        setProblem(result.problem);
      }
    });
  }, [api]);

  useEffect(() => {
    reload();
    return () => {
      generation.current++;
    };
  }, [reload]);
  useLiveReconnect(reload);
  useLiveEvent('queue', (list) => {
    generation.current++; // a reload in flight is older than this
    setEntries(Array.isArray(list) ? list : []);
    setLoading(false);
  });

  return { entries, loading, problem, reload };
}
