import type { ReactNode } from 'react';
import { ApiProvider, createApiClient, type ApiClient } from '@/api';
import { AppConfigProvider } from '@/features/config';
import { browserStorage, createSessionStore, SessionProvider, type SessionStore } from '@/features/auth';

export interface AppServices {
  session: SessionStore;
  api: ApiClient;
}

/**
 * The production wiring: a localStorage-backed session store (synced across tabs) and an API
 * client that reads its token from it. Created once per page, outside React, so StrictMode's
 * double renders and effects never see two stores.
 */
export function createAppServices(): AppServices {
  const session = createSessionStore({ storage: browserStorage(), storageEvents: window });
  const api = createApiClient({ session });
  return { session, api };
}

export function AppProvider({ services, children }: { services: AppServices; children: ReactNode }) {
  return (
    <SessionProvider store={services.session}>
      <ApiProvider client={services.api}>
        <AppConfigProvider>{children}</AppConfigProvider>
      </ApiProvider>
    </SessionProvider>
  );
}
