import { useQueries, useQueryClient } from '@tanstack/react-query';
import { useCallback } from 'react';
import { orThrow, settle, useApi, type ApiProblem, type ListEntry, type WrapUpSettings } from '@/api';

export interface PresenceLists {
  awayReasons: ListEntry[];
  dispositions: ListEntry[];
  settings: WrapUpSettings | null;
  problem: ApiProblem | null;
  reload: () => void;
}

const NONE: ListEntry[] = [];
/** Everything under this key is reloaded together when an admin edits a list. */
const LISTS_KEY = ['presence-lists'] as const;

/** The active away reasons and dispositions, and the wrap-up settings, loaded once. */
export function usePresenceLists(): PresenceLists {
  const api = useApi();
  const queryClient = useQueryClient();
  const [reasons, codes, wrapUp] = useQueries({
    queries: [
      {
        queryKey: [...LISTS_KEY, 'away-reasons'],
        queryFn: async ({ signal }: { signal: AbortSignal }) => orThrow(await settle(api.GET('/api/away-reasons', { signal }))),
      },
      {
        queryKey: [...LISTS_KEY, 'dispositions'],
        queryFn: async ({ signal }: { signal: AbortSignal }) => orThrow(await settle(api.GET('/api/dispositions', { signal }))),
      },
      {
        queryKey: [...LISTS_KEY, 'wrap-up-settings'],
        queryFn: async ({ signal }: { signal: AbortSignal }) => orThrow(await settle(api.GET('/api/wrap-up-settings', { signal }))),
      },
    ],
  });

  const reload = useCallback(() => void queryClient.invalidateQueries({ queryKey: LISTS_KEY }), [queryClient]);
  return {
    awayReasons: reasons.data ?? NONE,
    dispositions: codes.data ?? NONE,
    settings: wrapUp.data ?? null,
    problem: reasons.error ?? codes.error ?? wrapUp.error ?? null,
    reload,
  };
}
