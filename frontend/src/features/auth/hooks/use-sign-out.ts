import { useMutation } from '@tanstack/react-query';
import { useCallback } from 'react';
import { orThrow, settle, useApi } from '@/api';
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
  const mutation = useMutation({
    mutationFn: async (options: { handBack?: boolean }) =>
      orThrow(await settle(api.POST('/api/auth/logout', options.handBack ? { params: { query: { hand_back: true } } } : {}))),
    onSuccess: () => store.signOut(),
  });

  const { mutateAsync, reset } = mutation;
  const signOut = useCallback(
    (options: { handBack?: boolean } = {}) => mutateAsync(options).then(() => undefined, () => undefined),
    [mutateAsync],
  );

  // 401: the middleware signs out; nothing to explain.
  const problem = mutation.error && mutation.error.status !== 401 ? mutation.error : null;
  return { signOut, pending: mutation.isPending, problem, dismiss: reset };
}
