import { useCallback, useEffect, useState } from 'react';
import { settle, useApi, type ApiProblem, type ListEntry, type WrapUpSettings } from '@/api';

export interface PresenceLists {
  awayReasons: ListEntry[];
  dispositions: ListEntry[];
  settings: WrapUpSettings | null;
  problem: ApiProblem | null;
  reload: () => void;
}

/** The active away reasons and dispositions, and the wrap-up settings, loaded once. */
export function usePresenceLists(): PresenceLists {
  const api = useApi();
  const [awayReasons, setAwayReasons] = useState<ListEntry[]>([]);
  const [dispositions, setDispositions] = useState<ListEntry[]>([]);
  const [settings, setSettings] = useState<WrapUpSettings | null>(null);
  const [problem, setProblem] = useState<ApiProblem | null>(null);
  const [generation, setGeneration] = useState(0);

  useEffect(() => {
    let cancelled = false;
    void (async () => {
      const [reasons, codes, wrapUp] = await Promise.all([
        settle(api.GET('/api/away-reasons')),
        settle(api.GET('/api/dispositions')),
        settle(api.GET('/api/wrap-up-settings')),
      ]);
      if (cancelled) return;
      if (reasons.ok) setAwayReasons(reasons.data);
      if (codes.ok) setDispositions(codes.data);
      if (wrapUp.ok) setSettings(wrapUp.data);
      const failed = [reasons, codes, wrapUp].find((r) => !r.ok);
      setProblem(failed && !failed.ok ? failed.problem : null);
    })();
    return () => {
      cancelled = true;
    };
  }, [api, generation]);

  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  return { awayReasons, dispositions, settings, problem, reload };
}
