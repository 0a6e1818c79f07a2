import { useQuery } from '@tanstack/react-query';
import { useEffect } from 'react';
import { orThrow, settle, useApi } from '@/api';
import { useSessionStore } from './session-context';

/**
 * On mount (e.g. after a reload), and after every live reconnect, re-read `GET /api/me`:
 * refreshes the stored agent (status, name, role may have changed) and, through the API
 * middleware, signs out a session the server no longer accepts.
 */
export function useRefreshMe() {
  const api = useApi();
  const store = useSessionStore();
  const { data, dataUpdatedAt } = useQuery({
    queryKey: ['me'],
    queryFn: async ({ signal }) => orThrow(await settle(api.GET('/api/me', { signal }))),
  });
  // Keyed by the answer's time, not its content: an identical answer still overrides a local copy.
  useEffect(() => {
    if (data) store.updateAgent(data);
  }, [data, dataUpdatedAt, store]);
}
