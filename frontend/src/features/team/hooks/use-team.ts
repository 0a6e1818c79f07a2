import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useCallback } from 'react';
import { orThrow, settle, useApi, type AgentView, type ApiProblem } from '@/api';
import { useLiveEvent } from '@/live';

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

const NO_AGENTS: AgentView[] = [];

/** `['agents', includeInactive]`: the roster with or without deactivated agents. */
export const teamKey = (includeInactive: boolean) => ['agents', includeInactive] as const;

/**
 * The team with live presence: `GET /api/agents`, then `agent` events from the live stream
 * applied to every cached roster; refetched after every reconnect (events may have been missed
 * while disconnected) and every few seconds while the page is visible (not every presence change
 * is announced live).
 */
export function useTeam({ includeInactive = false }: { includeInactive?: boolean } = {}): TeamState {
  const api = useApi();
  const queryClient = useQueryClient();
  const query = useQuery({
    queryKey: teamKey(includeInactive),
    queryFn: async ({ signal }) =>
      orThrow(
        await settle(api.GET('/api/agents', { params: { query: includeInactive ? { include_inactive: true } : {} }, signal })),
      ),
    refetchInterval: REFRESH_MS,
    refetchIntervalInBackground: false,
  });

  const upsert = useCallback(
    (agent: AgentView) => {
      for (const inactiveToo of [false, true]) {
        queryClient.setQueryData<AgentView[]>(teamKey(inactiveToo), (list) =>
          list ? upsertAgent(list, agent, inactiveToo) : list,
        );
      }
    },
    [queryClient],
  );
  useLiveEvent('agent', upsert);

  const { refetch } = query;
  const reload = useCallback(() => void refetch(), [refetch]);

  return { agents: query.data ?? NO_AGENTS, loading: query.isPending, problem: query.error ?? null, reload, upsert };
}

export function upsertAgent(list: AgentView[], agent: AgentView, includeInactive: boolean): AgentView[] {
  const index = list.findIndex((a) => a.id === agent.id);
  if (!agent.active && !includeInactive) return index === -1 ? list : list.filter((a) => a.id !== agent.id);
  if (index === -1) return [...list, agent];
  const next = list.slice();
  next[index] = agent;
  return next;
}
