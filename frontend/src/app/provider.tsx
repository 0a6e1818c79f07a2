import { QueryClientProvider, type QueryClient } from '@tanstack/react-query';
import { useState, type ReactNode } from 'react';
import { ApiProvider, createApiClient, createQueryClient, type ApiClient } from '@/api';
import { AppConfigProvider } from '@/features/config';
import { browserStorage, createSessionStore, SessionProvider, type SessionStore } from '@/features/auth';

export interface AppServices {
  session: SessionStore;
  api: ApiClient;
  /** The server-state cache; one is created per page when not given (tests may pass their own). */
  queryClient?: QueryClient;
}

/**
 * The production wiring: a localStorage-backed session store (synced across tabs) and an API
 * client that reads its token from it. Created once per page, outside React, so StrictMode's
 * double renders and effects never see two stores.
 */
export function createAppServices(): AppServices {
  const session = createSessionStore({ storage: browserStorage(), storageEvents: window });
  const api = createApiClient({ session });
  return { session, api, queryClient: createQueryClient() };
}

export function AppProvider({ services, children }: { services: AppServices; children: ReactNode }) {
  const [queryClient] = useState(() => services.queryClient ?? createQueryClient());
  return (
    <SessionProvider store={services.session}>
      <ApiProvider client={services.api}>
        <QueryClientProvider client={queryClient}>
          <AppConfigProvider>{children}</AppConfigProvider>
        </QueryClientProvider>
      </ApiProvider>
    </SessionProvider>
  );
}
