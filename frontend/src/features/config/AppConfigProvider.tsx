import { createContext, useContext, useEffect, useState, type ReactNode } from 'react';
import { settle, useApi, type AppConfig } from '@/api';

export type AppConfigState =
  | { status: 'loading' }
  | { status: 'ready'; config: AppConfig }
  | { status: 'error'; message: string };

const AppConfigContext = createContext<AppConfigState>({ status: 'loading' });

/** Loads `GET /api/config` (public: demo or live mode, backend version) once for the whole app. */
export function AppConfigProvider({ children }: { children: ReactNode }) {
  const api = useApi();
  const [state, setState] = useState<AppConfigState>({ status: 'loading' });

  useEffect(() => {
    const controller = new AbortController();
    void settle(api.GET('/api/config', { signal: controller.signal })).then((result) => {
      if (controller.signal.aborted) return;
      setState(
        result.ok
          ? { status: 'ready', config: result.data }
          : { status: 'error', message: result.problem.message },
      );
    });
    return () => controller.abort();
  }, [api]);

  return <AppConfigContext.Provider value={state}>{children}</AppConfigContext.Provider>;
}

export function useAppConfig(): AppConfigState {
  return useContext(AppConfigContext);
}

export function useIsDemo(): boolean {
  const state = useAppConfig();
  return state.status === 'ready' && state.config.mode === 'demo';
}
