import { useCallback, useEffect, useRef, useState } from 'react';
import type { ApiProblem, ApiResult } from '@/api';

export interface ActionState {
  /** The action in flight (one at a time per runner), e.g. `hold:<participant id>`. */
  pending: string | null;
  /** Why the last action failed, and which one. */
  failed: { key: string; problem: ApiProblem } | null;
}

/**
 * Runs user actions one at a time, remembering which is in flight (to disable buttons and show
 * "Holding…") and why the last one failed (to say so next to it).
 */
export function useAction() {
  const [state, setState] = useState<ActionState>({ pending: null, failed: null });
  const mounted = useRef(true);
  const busy = useRef(false);
  useEffect(() => {
    mounted.current = true;
    return () => {
      mounted.current = false;
    };
  }, []);

  const run = useCallback(async <T,>(key: string, action: () => Promise<ApiResult<T>>): Promise<ApiResult<T> | null> => {
    if (busy.current) return null;
    busy.current = true;
    setState({ pending: key, failed: null });
    try {
      const result = await action();
      if (mounted.current) {
        setState({
          pending: null,
          failed: result.ok || result.problem.status === 401 ? null : { key, problem: result.problem },
        });
      }
      return result;
    } finally {
      busy.current = false;
    }
  }, []);

  const clear = useCallback(() => setState((s) => ({ ...s, failed: null })), []);

  return {
    run,
    clear,
    pending: state.pending,
    failed: state.failed,
    isPending: (key: string) => state.pending === key,
    problemFor: (key: string | ((k: string) => boolean)) =>
      state.failed && (typeof key === 'string' ? state.failed.key === key : key(state.failed.key))
        ? state.failed.problem
        : null,
  };
}
