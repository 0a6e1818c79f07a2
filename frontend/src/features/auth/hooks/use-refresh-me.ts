import { useEffect } from 'react';
import { settle, useApi } from '@/api';
import { useSessionStore } from './session-context';

/**
 * On mount (e.g. after a reload) re-read `GET /api/me`: refreshes the stored agent (status, name,
 * role may have changed) and, through the API middleware, signs out a session the server no longer
 * accepts.
 */
export function useRefreshMe() {
  const api = useApi();
  const store = useSessionStore();

  useEffect(() => {
    const controller = new AbortController();
    void settle(api.GET('/api/me', { signal: controller.signal })).then((result) => {
      if (!controller.signal.aborted && result.ok) store.updateAgent(result.data);
    });
    return () => controller.abort();
  }, [api, store]);
}
