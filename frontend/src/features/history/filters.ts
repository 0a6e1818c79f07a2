import type { CallStatus, ListCallsQuery } from '@/api';
import { CALL_STATUSES } from '@/lib/call-labels';

/** The history filters as the page keeps them (and as they appear in the address bar). */
export interface HistoryFilters {
  status?: CallStatus;
  agent_id?: string;
  /** `YYYY-MM-DD`, local day, inclusive. */
  since?: string;
  /** `YYYY-MM-DD`, local day, inclusive. */
  until?: string;
}

export const PAGE_SIZE = 25;

const DAY = /^\d{4}-\d{2}-\d{2}$/;

export function filtersFromParams(params: URLSearchParams): HistoryFilters {
  const filters: HistoryFilters = {};
  const status = params.get('status');
  if (status && (CALL_STATUSES as readonly string[]).includes(status)) filters.status = status as CallStatus;
  const agent = params.get('agent_id');
  if (agent) filters.agent_id = agent;
  const since = params.get('since');
  if (since && DAY.test(since)) filters.since = since;
  const until = params.get('until');
  if (until && DAY.test(until)) filters.until = until;
  return filters;
}

export function filtersToParams(filters: HistoryFilters): URLSearchParams {
  const params = new URLSearchParams();
  for (const key of ['status', 'agent_id', 'since', 'until'] as const) {
    const value = filters[key];
    if (value) params.set(key, value);
  }
  return params;
}

/** Local midnight of `day` (plus `addDays`) as RFC 3339. */
function localMidnight(day: string, addDays = 0): string | undefined {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  const date = new Date(y, m - 1, d + addDays);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

/** The `GET /api/calls` query for these filters: `until` covers the whole chosen day. */
export function toQuery(filters: HistoryFilters, cursor: string | null, limit = PAGE_SIZE): ListCallsQuery {
  const query: ListCallsQuery = { limit };
  if (filters.status) query.status = filters.status;
  if (filters.agent_id) query.agent_id = filters.agent_id;
  if (filters.since) query.since = localMidnight(filters.since);
  if (filters.until) query.until = localMidnight(filters.until, 1);
  if (cursor) query.cursor = cursor;
  return query;
}
