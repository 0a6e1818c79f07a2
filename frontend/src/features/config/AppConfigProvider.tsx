import { createContext, useContext, useEffect, useState, type ReactNode } from 'react';
import { settle, useApi, type AppConfig } from '@/api';

export type AppConfigState =
  | { status: 'loading' }
  | { status: 'ready'; config: AppConfig }
  | { status: 'error'; message: string };

const AppConfigContext = createContext<AppConfigState>({ status: 'loading' });

/**
 * Loads `GET /api/config` (public: demo or live mode, backend version) for the whole app. The
 * browser phone cannot start without it, so a failure is retried every few seconds.
 */
export function AppConfigProvider({ children }: { children: ReactNode }) {
  const api = useApi();
  const [state, setState] = useState<AppConfigState>({ status: 'loading' });

  useEffect(() => {
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | null = null;
    let attempt = 0;
    const load = () => {
      void settle(api.GET('/api/config', { signal: controller.signal })).then((result) => {
        if (controller.signal.aborted) return;
        if (result.ok) {
          setState({ status: 'ready', config: result.data });
          return;
        }
        setState({ status: 'error', message: result.problem.message });
        timer = setTimeout(load, Math.min(30_000, 2_000 * 2 ** attempt++));
      });
    };
    load();
    return () => {
      controller.abort();
      if (timer) clearTimeout(timer);
    };
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
