import type { AgentView, CallSummary } from '@/api/types';

export type LiveCallState = NonNullable<CallSummary['live_state']>;

export const LIVE_STATE_LABELS: Record<LiveCallState, string> = {
  queued: 'Queued',
  ringing: 'Ringing',
  talking: 'Talking',
  on_hold: 'On hold',
  consulting: 'Consulting',
};

/** A call event's state, or what its status says when the event carried none. */
export function stateOf(call: CallSummary): LiveCallState | null {
  if (call.live_state) return call.live_state;
  switch (call.status) {
    case 'queued':
      return 'queued';
    case 'ringing':
      return 'ringing';
    case 'in_progress':
      return 'talking';
    default:
      return null;
  }
}

/** When the call's current stretch began: waiting since it came in, talking since it was answered. */
export function callClockStart(call: CallSummary): string {
  const state = stateOf(call);
  return state === 'queued' || state === 'ringing' ? call.created_at : (call.answered_at ?? call.created_at);
}

/**
 * Callers are waiting and no agent is available to take them: the board raises an alert. Agents
 * ringing for a call are not counted as available (they are reserved).
 */
export function nobodyToAnswer(waiting: number, agents: readonly Pick<AgentView, 'status' | 'active'>[]): boolean {
  return waiting > 0 && !agents.some((a) => a.active && a.status === 'available');
}

/** Live calls in board order: oldest first; an ended call leaves the board. */
export function applyCallEvent(calls: readonly CallSummary[], event: CallSummary): CallSummary[] {
  const rest = calls.filter((c) => c.id !== event.id);
  if (stateOf(event) === null) return rest;
  return [...rest, event].sort((a, b) => a.created_at.localeCompare(b.created_at) || a.id.localeCompare(b.id));
}

/** This supervisor on the call (ringing or joined), if they are. */
export function myMonitor(call: CallSummary, meId: string): CallSummary['monitors'][number] | null {
  return (call.monitors ?? []).find((m) => m.agent_id === meId) ?? null;
}

/**
 * How an agent is on a live call as a supervisor, if they are (their leg in the conference): the
 * board shows it in place of their presence, which listening does not change for an away or
 * offline supervisor.
 */
export function monitoringNow(calls: readonly CallSummary[], agentId: string): CallSummary['monitors'][number] | null {
  for (const call of calls) {
    const m = (call.monitors ?? []).find((x) => x.agent_id === agentId && x.joined);
    if (m) return m;
  }
  return null;
}
