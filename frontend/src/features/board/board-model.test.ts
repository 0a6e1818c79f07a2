import { describe, expect, it } from 'vitest';
import type { CallSummary } from '@/api/types';
import { makeAgent } from '@/testing/fixtures';
import { applyCallEvent, callClockStart, monitoringNow, nobodyToAnswer, stateOf } from './board-model';

function call(overrides: Partial<CallSummary> = {}): CallSummary {
  return {
    id: 'c1',
    customer_call_sid: 'CA0123456789abcdef0123456789abcdef',
    from_number: '+14155550100',
    to_number: '+15005550006',
    status: 'in_progress',
    owner_agent_id: null,
    owner_name: null,
    created_at: '2026-12-01T10:00:00Z',
    answered_at: '2026-12-01T10:00:30Z',
    ended_at: null,
    duration_seconds: null,
    disposition: null,
    handled_by: [],
    monitors: [],
    transfer_summary: [],
    live_state: 'talking',
    ...overrides,
  };
}

describe('nobodyToAnswer', () => {
  it('alerts only when callers wait and no active agent is available', () => {
    const busy = makeAgent({ status: 'busy' });
    const free = makeAgent({ status: 'available' });
    const freeButDeactivated = makeAgent({ status: 'available', active: false });
    expect(nobodyToAnswer(0, [busy])).toBe(false);
    expect(nobodyToAnswer(2, [busy])).toBe(true);
    expect(nobodyToAnswer(2, [])).toBe(true);
    expect(nobodyToAnswer(2, [busy, free])).toBe(false);
    expect(nobodyToAnswer(1, [freeButDeactivated])).toBe(true);
    // Ringing (reserved) is not available: that agent is taken by another caller.
    expect(nobodyToAnswer(1, [makeAgent({ status: 'reserved' })])).toBe(true);
  });
});

describe('board calls', () => {
  it('replace a call by its event, keep oldest first, and drop calls that ended', () => {
    const older = call({ id: 'a', created_at: '2026-12-01T09:00:00Z' });
    const newer = call({ id: 'b', created_at: '2026-12-01T11:00:00Z' });
    let list = applyCallEvent([], newer);
    list = applyCallEvent(list, older);
    expect(list.map((c) => c.id)).toEqual(['a', 'b']);
    list = applyCallEvent(list, { ...older, live_state: 'on_hold' });
    expect(list.map((c) => [c.id, c.live_state])).toEqual([
      ['a', 'on_hold'],
      ['b', 'talking'],
    ]);
    list = applyCallEvent(list, { ...newer, status: 'completed', live_state: null });
    expect(list.map((c) => c.id)).toEqual(['a']);
  });

  it('fall back to the status when an event carries no state, and clock waits from arrival', () => {
    expect(stateOf(call({ live_state: null, status: 'queued' }))).toBe('queued');
    expect(stateOf(call({ live_state: null, status: 'abandoned' }))).toBeNull();
    expect(callClockStart(call({ live_state: 'queued' }))).toBe('2026-12-01T10:00:00Z');
    expect(callClockStart(call({ live_state: 'talking' }))).toBe('2026-12-01T10:00:30Z');
  });
});

describe('monitoringNow', () => {
  const sue = { agent_id: 'sue', name: 'Sue', mode: 'whisper' as const, joined: true };
  it('is how the agent is on a live call as a supervisor, once their leg joined', () => {
    const calls = [call({ id: 'c1' }), call({ id: 'c2', monitors: [sue] })];
    expect(monitoringNow(calls, 'sue')).toEqual(sue);
    expect(monitoringNow([call({ monitors: [{ ...sue, joined: false }] })], 'sue')).toBeNull();
    expect(monitoringNow(calls, 'bob')).toBeNull();
  });
});
