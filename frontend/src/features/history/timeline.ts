import type { AgentView, CallEvent, Participant, ParticipantStatus, Transfer } from '@/api';
import { PARTICIPANT_STATUS_LABELS, TRANSFER_MODE_LABELS } from '@/lib/call-labels';
import { formatPhone } from '@/lib/format';

/** What a timeline label may look up: the team (for agents' names) and the call itself. */
export interface TimelineContext {
  agents: readonly Pick<AgentView, 'id' | 'display_name'>[];
  participants: readonly Pick<Participant, 'id' | 'kind' | 'agent_id' | 'display_name' | 'phone' | 'call_sid'>[];
  transfers: readonly Pick<Transfer, 'id' | 'to_agent_id' | 'to_number'>[];
  /** Whether an agent hung up (a `hangup_requested` entry): then the customer's leaving, which
   * ends the conference, is not the customer hanging up. */
  agentHungUp?: boolean;
}

/** The context's `agentHungUp` for a call's timeline. */
const MONITOR_VERBS = { listen: 'listening to', whisper: 'coaching the agent on', barge: 'talking on' } as const;

export function agentHungUp(timeline: readonly Pick<TimelineEntry, 'kind'>[]): boolean {
  return timeline.some((e) => e.kind === 'hangup_requested');
}

type KindAndData<E> = E extends { kind: string; data: unknown } ? Pick<E, 'kind' | 'data'> : never;

/** An entry's `kind` and `data`: the union, one member per kind, that the API serves. */
export type TimelineEntry = KindAndData<CallEvent>;
export type TimelineKind = TimelineEntry['kind'];
/** The entry of one kind, with that kind's fields. */
export type TimelineEntryOf<K extends TimelineKind> = Extract<TimelineEntry, { kind: K }>;

/** Whether an entry reports a raw Twilio callback (shown quieter than what people did). */
export function isTwilioReport(entry: TimelineEntry): boolean {
  return entry.kind === 'leg_status' || entry.kind === 'conference_event' || entry.kind === 'twilio_error';
}

const capitalize = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

/** Twilio's conference events, as what happened to the participant (or the conference). */
const CONFERENCE_EVENTS: Record<string, string> = {
  'participant-join': 'joined the conference',
  'participant-leave': 'left the conference',
  'participant-hold': 'is on hold',
  'participant-unhold': 'is off hold',
  'participant-mute': 'is muted',
  'participant-unmute': 'is unmuted',
  'participant-modify': 'was updated',
  'participant-speech-start': 'started speaking',
  'participant-speech-stop': 'stopped speaking',
  'announcement-end': 'announcement ended',
  'announcement-fail': 'announcement failed',
};

/** A Twilio call status (`no-answer`, `in-progress`, ...) as words. */
const twilioStatus = (status: string) => status.replace(/-/g, ' ');

/**
 * One timeline entry in words: who did what, with agents' names from the team list. Raw Twilio
 * detail (SIDs, sequence numbers, reasons) stays out of the label: see `timelineDetails`.
 */
export function timelineLabel(entry: TimelineEntry, ctx: TimelineContext): string {
  const agent = (id: string | null | undefined) =>
    id ? (ctx.agents.find((a) => a.id === id)?.display_name ?? 'An agent no longer on the team') : 'Someone';
  const party = (p: TimelineContext['participants'][number] | undefined) => {
    if (!p) return 'a participant';
    if (p.kind === 'customer') return 'the customer';
    if (p.kind === 'agent') return p.agent_id ? agent(p.agent_id) : p.display_name;
    return formatPhone(p.phone ?? p.display_name);
  };
  const who = (participantId: string) => party(ctx.participants.find((p) => p.id === participantId));
  const bySid = (sid: string | null | undefined) => (sid ? ctx.participants.find((p) => p.call_sid === sid) : undefined);
  const target = (agentId: string | null | undefined, number: string | null | undefined) =>
    agentId ? agent(agentId) : number ? formatPhone(number) : 'an unknown target';
  const transferTarget = (transferId: string) => {
    const t = ctx.transfers.find((x) => x.id === transferId);
    return t ? target(t.to_agent_id, t.to_number) : 'an unknown target';
  };
  const missed = (status: ParticipantStatus) => PARTICIPANT_STATUS_LABELS[status].toLowerCase();

  switch (entry.kind) {
    case 'call_received': {
      const d = entry.data;
      if (d.adopted_from_conference || d.adopted_from_twilio) return 'Call taken over from a conference the server had not recorded';
      return `Call received from ${formatPhone(d.from ?? 'unknown')}`;
    }
    case 'agent_ringing':
      return `Ringing ${agent(entry.data.agent_id)}`;
    case 'participant_joined':
      return `${capitalize(who(entry.data.participant_id))} joined`;
    case 'participant_left':
      return `${capitalize(who(entry.data.participant_id))} left`;
    case 'agent_missed':
      return `${capitalize(who(entry.data.participant_id))} did not answer (${missed(entry.data.status)})`;
    case 'agent_declined':
      return `${capitalize(who(entry.data.participant_id))} declined the call`;
    case 'wrap_up_started':
      return `${agent(entry.data.agent_id)} started wrap-up`;
    case 'disposition_set': {
      const d = entry.data;
      const code = d.code ? `disposition ${d.code}` : 'no disposition';
      const notes = d.notes_chars > 0 ? ' with notes' : '';
      return `${agent(d.by)} filed ${code}${notes}`;
    }
    case 'target_missed':
      return `${capitalize(who(entry.data.participant_id))} did not answer (${missed(entry.data.status)})`;
    case 'customer_out_of_conference':
      return 'The customer dropped out of the conference';
    case 'conference_lost':
      return 'The conference was lost';
    case 'customer_never_joined':
      return 'The customer never reached the conference';
    case 'customer_joined_late':
      return 'The customer reached the conference late';
    case 'requeued':
      return `Back in the queue: ${entry.data.reason}`;
    case 'transfer_started': {
      const d = entry.data;
      return `${agent(d.by)} started a ${TRANSFER_MODE_LABELS[d.mode].toLowerCase()} transfer to ${target(d.to_agent_id, d.to_number)}: ringing`;
    }
    case 'handover_note':
      return `${agent(entry.data.by)} left a note for ${transferTarget(entry.data.transfer_id)}: “${entry.data.note}”`;
    case 'transferred_to_queue':
      return entry.data.note
        ? `${agent(entry.data.by)} sent the customer back to the queue, with a note for the next agent: “${entry.data.note}”`
        : `${agent(entry.data.by)} sent the customer back to the queue`;
    case 'transfer_to_queue_failed':
      return `Sending the customer back to the queue failed; they stayed with ${agent(entry.data.by)}`;
    case 'transfer_target_joined':
      return `Transfer to ${transferTarget(entry.data.transfer_id)}: answered`;
    case 'transfer_completed':
      return `Transfer to ${target(entry.data.to_agent_id, entry.data.to_number)}: completed`;
    case 'transfer_canceled': {
      const d = entry.data;
      const why = d.by ? ` by ${agent(d.by)}` : d.reason ? ` (${d.reason})` : '';
      return `Transfer to ${transferTarget(d.transfer_id)}: cancelled${why}`;
    }
    case 'transfer_failed':
      return `Transfer to ${transferTarget(entry.data.transfer_id)}: failed (${missed(entry.data.status)})`;
    case 'hold':
      return entry.data.hold
        ? `${agent(entry.data.by)} put ${who(entry.data.participant_id)} on hold`
        : `${agent(entry.data.by)} resumed ${who(entry.data.participant_id)}`;
    case 'mute':
      return entry.data.muted
        ? `${agent(entry.data.by)} muted ${who(entry.data.participant_id)}`
        : `${agent(entry.data.by)} unmuted ${who(entry.data.participant_id)}`;
    case 'participant_removed':
      return `${agent(entry.data.by)} removed ${who(entry.data.participant_id)}`;
    case 'agent_leaving':
      return `${agent(entry.data.agent_id)} left the call`;
    case 'agent_handed_back':
      return `${agent(entry.data.agent_id)} handed the call back (${entry.data.reason})`;
    case 'hangup_requested':
      return `${agent(entry.data.by)} hung up`;
    case 'assigned_to':
      return `${agent(entry.data.by)} gave the call to ${agent(entry.data.agent_id)}`;
    case 'monitor_started':
      return `${agent(entry.data.by)} started ${MONITOR_VERBS[entry.data.mode]} the call`;
    case 'monitor_mode_changed':
      return `${agent(entry.data.by)} switched to ${MONITOR_VERBS[entry.data.mode]} the call`;
    case 'monitor_stopped':
      return `${agent(entry.data.by)} stopped listening`;
    case 'monitor_missed':
      return `${capitalize(who(entry.data.participant_id))} did not join as supervisor (${missed(entry.data.status)})`;
    case 'taken_over':
      return entry.data.from_agent_id
        ? `${agent(entry.data.by)} took the call over from ${agent(entry.data.from_agent_id)}`
        : `${agent(entry.data.by)} took the call over`;
    case 'take_over_failed':
      return `${agent(entry.data.by)} could not take the call over (Twilio refused); nothing changed`;
    case 'monitor_mode_change_failed':
      return `${agent(entry.data.by)} could not switch to ${MONITOR_VERBS[entry.data.mode]} the call (Twilio refused); nothing changed`;
    case 'moved_to_front':
      return `${agent(entry.data.by)} moved the call to the front of the queue`;
    case 'call_ended': {
      const reason = entry.data.reason;
      const customerLeft = reason === 'customer hung up' || reason === "the customer's call ended";
      if (customerLeft && !ctx.agentHungUp) return 'Customer hung up';
      return customerLeft ? 'Call ended' : `Call ended (${reason})`;
    }
    case 'leg_status': {
      const d = entry.data;
      return `Twilio: ${who(d.participant_id)}'s line is ${twilioStatus(d.status)}`;
    }
    case 'conference_event': {
      const d = entry.data;
      if (d.event === 'conference-start') return 'Twilio: the conference started';
      if (d.event === 'conference-end') return 'Twilio: the conference ended';
      const what = CONFERENCE_EVENTS[d.event] ?? twilioStatus(d.event);
      return `Twilio: ${party(bySid(d.call_sid))} ${what}`;
    }
    case 'customer_rejoined':
      return 'The customer was put back in the conference';
    case 'outside_dial': {
      const d = entry.data;
      const dialed = `${agent(d.by)} dialed ${formatPhone(d.number)}`;
      return d.decision === 'allowed' ? `${dialed}: allowed` : `${dialed}: refused${d.message ? ` (${d.message})` : ''}`;
    }
    case 'twilio_error':
      return `A request to Twilio failed: ${entry.data.request}`;
    case 'unknown':
      return `Unrecognised entry (${entry.data.stored_kind})`;
    default:
      return unlabelled(entry);
  }
}

/** A kind the switch above does not label is a type error here. */
function unlabelled(entry: never): string {
  const kind = (entry as { kind?: unknown }).kind;
  return `Unrecognised entry (${String(kind)})`;
}

/**
 * The raw fields of an entry, for the details toggle: SIDs, sequence numbers, Twilio's reasons,
 * ids, as stored. Nested values (an unknown entry's stored data) are shown as JSON.
 */
export function timelineDetails(entry: TimelineEntry): [string, string][] {
  const rows: [string, string][] = [['kind', entry.kind]];
  for (const [key, value] of Object.entries((entry.data ?? {}) as Record<string, unknown>)) {
    if (value === null || value === undefined) continue;
    rows.push([key, typeof value === 'object' ? JSON.stringify(value) : String(value)]);
  }
  return rows;
}
