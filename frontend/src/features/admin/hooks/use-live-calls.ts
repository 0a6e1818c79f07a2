import { useCallback, useEffect, useRef, useState } from 'react';
import { settle, useApi, type ApiProblem, type CallSummary } from '@/api';
import { useLiveEvent, useLiveReconnect } from '@/live';

const LIVE = new Set<CallSummary['status']>(['queued', 'ringing', 'in_progress']);

/** Calls not yet over, kept current by live `call` events (for supervisors). */
export function useLiveCalls() {
  const api = useApi();
  const [calls, setCalls] = useState<CallSummary[]>([]);
  const [problem, setProblem] = useState<ApiProblem | null>(null);
  const generation = useRef(0);

  const reload = useCallback(() => {
    const mine = ++generation.current;
    void Promise.all(
      (['in_progress', 'ringing', 'queued'] as const).map((status) =>
        settle(api.GET('/api/calls', { params: { query: { status, limit: 100 } } })),
      ),
    ).then((results) => {
      if (mine !== generation.current) return;
      const failed = results.find((r) => !r.ok);
      if (failed && !failed.ok) {
        setProblem(failed.problem);
        return;
      }
      setProblem(null);
      setCalls(results.flatMap((r) => (r.ok ? r.data.items : [])));
    });
  }, [api]);

  useEffect(() => {
    reload();
    return () => {
      generation.current++;
    };
  }, [reload]);
  useLiveReconnect(reload);
  useLiveEvent('call', (call) => {
    setCalls((list) => {
      const rest = list.filter((c) => c.id !== call.id);
      return LIVE.has(call.status) ? [call, ...rest] : rest;
    });
  });

  const sorted = calls.slice().sort((a, b) => a.created_at.localeCompare(b.created_at));
  return { calls: sorted, problem, reload };
}
