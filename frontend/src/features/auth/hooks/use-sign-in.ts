import { useCallback, useState } from 'react';
import { settle, useApi, type ApiProblem, type LoginRequest } from '@/api';
import { useSessionStore } from './session-context';

export function useSignIn() {
  const api = useApi();
  const store = useSessionStore();
  const [pending, setPending] = useState(false);
  const [problem, setProblem] = useState<ApiProblem | null>(null);

  const signIn = useCallback(
    async (credentials: LoginRequest): Promise<boolean> => {
      setPending(true);
      setProblem(null);
      const result = await settle(api.POST('/api/auth/login', { body: credentials }));
      setPending(false);
      if (!result.ok) {
        setProblem(result.problem);
        return false;
      }
      store.signIn(result.data);
      return true;
    },
    [api, store],
  );

  return { signIn, pending, problem };
}
