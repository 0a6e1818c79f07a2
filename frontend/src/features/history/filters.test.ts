import { describe, expect, it } from 'vitest';
import { filtersFromParams, filtersToParams, toQuery } from './filters';

describe('history filters', () => {
  it('round-trips through the address bar and drops junk', () => {
    const params = new URLSearchParams('status=completed&agent_id=a1&since=2026-01-02&until=bad&x=1');
    const filters = filtersFromParams(params);
    expect(filters).toEqual({ status: 'completed', agent_id: 'a1', since: '2026-01-02' });
    expect(filtersToParams(filters).toString()).toBe('status=completed&agent_id=a1&since=2026-01-02');
    expect(filtersFromParams(new URLSearchParams('status=nope'))).toEqual({});
  });

  it('builds the API query: local-day bounds, until inclusive, cursor and limit', () => {
    const q = toQuery({ since: '2026-03-01', until: '2026-03-01', status: 'abandoned' }, 'next-1', 10);
    expect(q.limit).toBe(10);
    expect(q.cursor).toBe('next-1');
    expect(q.status).toBe('abandoned');
    expect(new Date(q.since!).getTime()).toBe(new Date(2026, 2, 1).getTime());
    expect(new Date(q.until!).getTime()).toBe(new Date(2026, 2, 2).getTime());
    expect(toQuery({}, null)).toEqual({ limit: 25 });
  });
});
