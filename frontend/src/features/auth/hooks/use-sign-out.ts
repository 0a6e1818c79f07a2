import { useCallback, useState } from 'react';
import { settle, useApi } from '@/api';
import { useSessionStore } from './session-context';

/** Ends the session on the server (best effort) and always forgets it locally. */
export function useSignOut() {
  const api = useApi();
  const store = useSessionStore();
  const [pending, setPending] = useState(false);

  const signOut = useCallback(async () => {
    setPending(true);
    try {
      // Even when this fails (offline, already expired) the local session goes away.
      await settle(api.POST('/api/auth/logout'));
    } finally {
      setPending(false);
      store.signOut();
    }
  }, [api, store]);

  return { signOut, pending };
}
