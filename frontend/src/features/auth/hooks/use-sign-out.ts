import { useCallback, useState } from 'react';
import { settle, useApi, type ApiProblem } from '@/api';
import { useSessionStore } from './session-context';

/**
 * Ends the session on the server, and only then here: the server may refuse (409 while the agent
 * is ringing or on a call; the agent must stay signed in to finish it), or not be reached; the
 * agent then stays signed in and `problem` says why. A 401 means the session was already over:
 * the API middleware signs out (unless the agent has signed in again meanwhile). On a call the
 * agent may choose `handBack`: the server sends the caller back to the queue for a colleague.
 */
export function useSignOut() {
  const api = useApi();
  const store = useSessionStore();
  const [pending, setPending] = useState(false);
  const [problem, setProblem] = useState<ApiProblem | null>(null);

  const signOut = useCallback(async (options: { handBack?: boolean } = {}) => {
    setPending(true);
    setProblem(null);
    const result = await settle(
      api.POST('/api/auth/logout', options.handBack ? { params: { query: { hand_back: true } } } : {}),
    );
    setPending(false);
    if (result.ok) store.signOut();
    else if (result.problem.status !== 401) setProblem(result.problem); // 401: the middleware signs out
  }, [api, store]);

  const dismiss = useCallback(() => setProblem(null), []);

  return { signOut, pending, problem, dismiss };
}
