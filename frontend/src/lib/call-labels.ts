import type { CallStatus, MonitorMode, Participant, ParticipantKind, ParticipantStatus, TransferMode, TransferStatus } from '@/api/types';

export const CALL_STATUS_LABELS: Record<CallStatus, string> = {
  queued: 'Waiting in queue',
  ringing: 'Ringing',
  in_progress: 'In progress',
  completed: 'Completed',
  abandoned: 'Abandoned',
  failed: 'Failed',
};

export const CALL_STATUSES: readonly CallStatus[] = ['queued', 'ringing', 'in_progress', 'completed', 'abandoned', 'failed'];

export const PARTICIPANT_KIND_LABELS: Record<ParticipantKind, string> = {
  customer: 'Customer',
  agent: 'Agent',
  external: 'Phone',
  supervisor: 'Supervisor',
};

/** How a supervisor is on a call, as the board and the call's participants show it. */
export const MONITOR_MODE_LABELS: Record<MonitorMode, string> = {
  listen: 'Listening',
  whisper: 'Whispering',
  barge: 'Barged in',
};

export const PARTICIPANT_STATUS_LABELS: Record<ParticipantStatus, string> = {
  dialing: 'Dialing',
  ringing: 'Ringing',
  connected: 'Connected',
  left: 'Left',
  no_answer: 'No answer',
  busy: 'Busy',
  failed: 'Failed',
  canceled: 'Canceled',
};

export const TRANSFER_MODE_LABELS: Record<TransferMode, string> = { warm: 'Warm', cold: 'Cold' };

export const TRANSFER_STATUS_LABELS: Record<TransferStatus, string> = {
  dialing: 'Ringing the target',
  consulting: 'Consulting',
  completed: 'Completed',
  canceled: 'Canceled',
  failed: 'Not answered',
};

const LIVE_PARTICIPANT: ReadonlySet<ParticipantStatus> = new Set(['dialing', 'ringing', 'connected']);

/** Still on the call or about to join it. */
export function isLiveParticipant(p: Pick<Participant, 'status'>): boolean {
  return LIVE_PARTICIPANT.has(p.status);
}

export function isFinalCall(status: CallStatus): boolean {
  return status === 'completed' || status === 'abandoned' || status === 'failed';
}

/**
 * What the participant is doing now, in the words an agent uses: talking, on hold, muted,
 * ringing... (a connected participant may be both on hold and muted).
 */
export function participantStates(p: Participant): string[] {
  if (p.status !== 'connected') return [PARTICIPANT_STATUS_LABELS[p.status]];
  const states: string[] = [];
  if (p.on_hold) states.push('On hold');
  if (p.muted) states.push('Muted');
  if (states.length === 0) states.push('Talking');
  return states;
}
