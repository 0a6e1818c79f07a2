import { useMutation } from '@tanstack/react-query';
import { useCallback } from 'react';
import { orThrow, settle, useApi, type LoginRequest } from '@/api';
import { useSessionStore } from './session-context';

export function useSignIn() {
  const api = useApi();
  const store = useSessionStore();
  const mutation = useMutation({
    mutationFn: async (credentials: LoginRequest) => orThrow(await settle(api.POST('/api/auth/login', { body: credentials }))),
    onSuccess: (login) => store.signIn(login),
  });

  const { mutateAsync } = mutation;
  const signIn = useCallback(
    (credentials: LoginRequest): Promise<boolean> => mutateAsync(credentials).then(() => true, () => false),
    [mutateAsync],
  );

  return { signIn, pending: mutation.isPending, problem: mutation.error ?? null };
}
