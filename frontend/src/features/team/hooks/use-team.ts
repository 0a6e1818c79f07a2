import { useCallback, useEffect, useRef, useState } from 'react';
import { settle, useApi, type AgentView, type ApiProblem } from '@/api';
import { useLiveEvent, useLiveReconnect } from '@/live';

export interface TeamState {
  agents: AgentView[];
  loading: boolean;
  problem: ApiProblem | null;
  reload: () => void;
  /** Apply a fresher copy of one agent (e.g. the signed-in agent after a presence change). */
  upsert: (agent: AgentView) => void;
}

/** Safety net: reload this often while the page is visible, in case an event never came. */
const REFRESH_MS = 10_000;

/**
 * The team with live presence: `GET /api/agents`, then `agent` events from the live stream;
 * reloaded after every reconnect (events may have been missed while disconnected) and every
 * few seconds while the page is visible (not every presence change is announced live).
 */
export function useTeam({ includeInactive = false }: { includeInactive?: boolean } = {}): TeamState {
  const api = useApi();
  const [agents, setAgents] = useState<AgentView[]>([]);
  const [loading, setLoading] = useState(true);
  const [problem, setProblem] = useState<ApiProblem | null>(null);
  const generation = useRef(0);

  const reload = useCallback(() => {
    const mine = ++generation.current;
    void settle(api.GET('/api/agents', { params: { query: includeInactive ? { include_inactive: true } : {} } })).then(
      (result) => {
        if (mine !== generation.current) return;
        setLoading(false);
        if (result.ok) {
          setAgents(result.data);
          setProblem(null);
        } else if (result.problem.code !== 'aborted') {
          setProblem(result.problem);
        }
      },
    );
  }, [api, includeInactive]);

  useEffect(() => {
    reload();
    return () => {
      generation.current++;
    };
  }, [reload]);

  useEffect(() => {
    const id = setInterval(() => {
      if (typeof document === 'undefined' || document.visibilityState !== 'hidden') reload();
    }, REFRESH_MS);
    return () => clearInterval(id);
  }, [reload]);

  useLiveReconnect(reload);
  useLiveEvent('agent', (agent) => {
    setAgents((list) => upsertAgent(list, agent, includeInactive));
  });

  const upsert = useCallback(
    (agent: AgentView) => setAgents((list) => upsertAgent(list, agent, includeInactive)),
    [includeInactive],
  );

  return { agents, loading, problem, reload, upsert };
}

export function upsertAgent(list: AgentView[], agent: AgentView, includeInactive: boolean): AgentView[] {
  const index = list.findIndex((a) => a.id === agent.id);
  if (!agent.active && !includeInactive) return index === -1 ? list : list.filter((a) => a.id !== agent.id);
  if (index === -1) return [...list, agent];
  const next = list.slice();
  next[index] = agent;
  return next;
}
