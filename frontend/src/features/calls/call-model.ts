import type { AgentView, CallDetail, Participant, Transfer } from '@/api';
import { isLiveParticipant } from '@/lib/call-labels';

/** This agent's live leg on the call (the latest, if they rejoined). */
export function myParticipant(call: CallDetail, meId: string): Participant | null {
  const mine = call.participants.filter((p) => p.agent_id === meId && isLiveParticipant(p));
  return mine[mine.length - 1] ?? null;
}

export function customerParticipant(call: CallDetail): Participant | null {
  const customers = call.participants.filter((p) => p.kind === 'customer');
  return customers.find(isLiveParticipant) ?? customers[customers.length - 1] ?? null;
}

/**
 * This agent is on the call and nobody else is with the customer: no colleague, transfer target
 * or phone number connected. Leaving then sends the customer back to the queue (another agent is
 * rung), so the UI asks first. A transfer target still being dialled is not with the customer yet.
 */
export function aloneWithCustomer(call: CallDetail, meId: string): boolean {
  const mine = myParticipant(call, meId);
  const customer = customerParticipant(call);
  if (!mine || !customer || !isLiveParticipant(customer)) return false;
  return !call.participants.some((p) => p.id !== mine.id && p.kind !== 'customer' && p.kind !== 'supervisor' && p.status === 'connected');
}

/** The transfer in flight (dialing or consulting), if any. */
export function activeTransfer(call: CallDetail): Transfer | null {
  return call.transfers.find((t) => t.status === 'dialing' || t.status === 'consulting') ?? null;
}

export function transferTargetName(transfer: Transfer, call: CallDetail, team: AgentView[]): string {
  if (transfer.to_agent_id) {
    return team.find((a) => a.id === transfer.to_agent_id)?.display_name ?? participantName(call, transfer.target_participant_id) ?? 'another agent';
  }
  return transfer.to_number ?? participantName(call, transfer.target_participant_id) ?? 'a phone number';
}

export function agentName(id: string | null | undefined, team: AgentView[], fallback = 'Another agent'): string {
  if (!id) return fallback;
  return team.find((a) => a.id === id)?.display_name ?? fallback;
}

function participantName(call: CallDetail, id: string | null | undefined): string | null {
  if (!id) return null;
  return call.participants.find((p) => p.id === id)?.display_name ?? null;
}

/** The participant rows worth showing: everyone live, then who left, customer first. */
export function visibleParticipants(call: CallDetail): Participant[] {
  const rank = (p: Participant) => (isLiveParticipant(p) ? 0 : 1) * 10 + (p.kind === 'customer' ? 0 : p.kind === 'agent' ? 1 : 2);
  return call.participants.slice().sort((a, b) => rank(a) - rank(b));
}

export function replaceParticipant(call: CallDetail, participant: Participant): CallDetail {
  return { ...call, participants: call.participants.map((p) => (p.id === participant.id ? participant : p)) };
}

export function replaceTransfer(call: CallDetail, transfer: Transfer): CallDetail {
  const exists = call.transfers.some((t) => t.id === transfer.id);
  return {
    ...call,
    transfers: exists ? call.transfers.map((t) => (t.id === transfer.id ? transfer : t)) : [...call.transfers, transfer],
  };
}

/** A note another agent left for whoever handles the call: with a transfer to them, or with the queue. */
export interface HandedNote {
  note: string;
  fromAgentId: string | null | undefined;
  /** Left when the call was sent back to the queue, for the next agent (not for this one by name). */
  viaQueue: boolean;
}

/**
 * The note this agent should see with the call: the latest one handed to them, either with a
 * transfer to them or left with the queue by someone else (the call then came to them from the
 * queue). A note this agent left themselves is not news to them.
 */
export function handedNote(call: CallDetail, meId: string): HandedNote | null {
  const notes: Array<HandedNote & { at: string }> = [];
  for (const t of call.transfers) {
    if (t.to_agent_id === meId && t.note) notes.push({ note: t.note, fromAgentId: t.from_agent_id, viaQueue: false, at: t.created_at });
  }
  for (const e of call.timeline) {
    if (e.kind === 'transferred_to_queue' && e.data.note && e.data.by !== meId) {
      notes.push({ note: e.data.note, fromAgentId: e.data.by, viaQueue: true, at: e.at });
    } else if (e.kind === 'transfer_to_queue_failed') {
      // Twilio refused: the call stayed with its agent, and the note went nowhere.
      const withdrawn = notes.findLastIndex((n) => n.viaQueue && n.fromAgentId === e.data.by);
      if (withdrawn !== -1) notes.splice(withdrawn, 1);
    }
  }
  const latest = notes.sort((a, b) => Date.parse(a.at) - Date.parse(b.at)).pop();
  return latest ? { note: latest.note, fromAgentId: latest.fromAgentId, viaQueue: latest.viaQueue } : null;
}

/**
 * What the call's agent is told about a supervisor on their call: listening, coaching them (only
 * they hear it), or in the conversation. Shown to the owner only; null when no supervisor is in.
 */
export function supervisorNotice(call: CallDetail, meId: string): { mode: NonNullable<Participant['monitor_mode']>; text: string } | null {
  if (call.owner_agent_id !== meId) return null;
  const sup = call.participants.filter((p) => p.kind === 'supervisor' && p.status === 'connected' && p.monitor_mode).pop();
  if (!sup?.monitor_mode) return null;
  const text =
    sup.monitor_mode === 'whisper'
      ? `${sup.display_name} is coaching you (the customer can't hear them)`
      : sup.monitor_mode === 'barge'
        ? `${sup.display_name} joined the call`
        : `${sup.display_name} is listening`;
  return { mode: sup.monitor_mode, text };
}
