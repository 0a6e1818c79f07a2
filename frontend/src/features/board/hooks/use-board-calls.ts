import { useCallback, useEffect, useRef, useState } from 'react';
import { settle, useApi, type ApiProblem, type CallSummary } from '@/api';
import { useLiveEvent, useLiveReconnect } from '@/live';
import { applyCallEvent } from '../board-model';

/**
 * Every live call with what it is doing now: `GET /api/board/calls` once (and on reconnect), then
 * each live `call` event replaces its call (or removes it once over). No polling.
 */
export function useBoardCalls() {
  const api = useApi();
  const [calls, setCalls] = useState<CallSummary[]>([]);
  const [loading, setLoading] = useState(true);
  const [problem, setProblem] = useState<ApiProblem | null>(null);
  const generation = useRef(0);

  const reload = useCallback(() => {
    const mine = ++generation.current;
    void settle(api.GET('/api/board/calls')).then((result) => {
      if (mine !== generation.current) return;
      setLoading(false);
      if (result.ok) {
        setCalls(result.data);
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
  useLiveEvent('call', (call) => setCalls((list) => applyCallEvent(list, call)));

  return { calls, loading, problem, reload };
}
