import { describe, expect, it } from 'vitest';
import { agentHungUp, isTwilioReport, timelineDetails, timelineLabel, type TimelineContext, type TimelineEntry, type TimelineEntryOf, type TimelineKind } from './timeline';

const ANA = '00000000-0000-4000-8000-0000000000a1';
const BEN = '00000000-0000-4000-8000-0000000000b2';
const GONE = '00000000-0000-4000-8000-0000000000ff';
const P_CUSTOMER = '10000000-0000-4000-8000-000000000001';
const P_ANA = '10000000-0000-4000-8000-000000000002';
const P_BEN = '10000000-0000-4000-8000-000000000003';
const P_PHONE = '10000000-0000-4000-8000-000000000004';
const T_BEN = '20000000-0000-4000-8000-000000000001';
const T_PHONE = '20000000-0000-4000-8000-000000000002';
const SID_CUSTOMER = 'CA00000000000000000000000000000001';
const SID_ANA = 'CA00000000000000000000000000000002';

const ctx: TimelineContext = {
  agents: [
    { id: ANA, display_name: 'Ana' },
    { id: BEN, display_name: 'Ben' },
  ],
  participants: [
    { id: P_CUSTOMER, kind: 'customer', agent_id: null, display_name: '+15551230001', phone: '+15551230001', call_sid: SID_CUSTOMER },
    { id: P_ANA, kind: 'agent', agent_id: ANA, display_name: 'Ana', phone: null, call_sid: SID_ANA },
    { id: P_BEN, kind: 'agent', agent_id: BEN, display_name: 'Ben', phone: null, call_sid: null },
    { id: P_PHONE, kind: 'external', agent_id: null, display_name: '+15550001111', phone: '+15550001111', call_sid: null },
  ],
  transfers: [
    { id: T_BEN, to_agent_id: BEN, to_number: null },
    { id: T_PHONE, to_agent_id: null, to_number: '+15550001111' },
  ],
};

const entry = <K extends TimelineKind>(kind: K, data: TimelineEntryOf<K>['data']): TimelineEntry =>
  ({ kind, data }) as TimelineEntry;
const label = (e: TimelineEntry) => timelineLabel(e, ctx);

/** One case (or more) per kind; a kind missing here fails the coverage test below. */
const CASES: [TimelineEntry, string][] = [
  [entry('call_received', { from: '+15551230001', to: '+15557654321' }), 'Call received from +15551230001'],
  [
    entry('call_received', { from: 'unknown', to: 'unknown', adopted_from_conference: 'wt-CA1' }),
    'Call taken over from a conference the server had not recorded',
  ],
  [entry('agent_ringing', { agent_id: ANA, participant_id: P_ANA }), 'Ringing Ana'],
  [entry('participant_joined', { participant_id: P_CUSTOMER, agent_id: null, kind: 'customer' }), 'The customer joined'],
  [entry('participant_joined', { participant_id: P_BEN, agent_id: BEN, kind: 'agent' }), 'Ben joined'],
  [entry('participant_left', { participant_id: P_ANA, agent_id: ANA, kind: 'agent' }), 'Ana left'],
  [entry('agent_missed', { participant_id: P_BEN, agent_id: BEN, phone: null, status: 'no_answer' }), 'Ben did not answer (no answer)'],
  [entry('agent_declined', { participant_id: P_BEN, agent_id: BEN }), 'Ben declined the call'],
  [entry('wrap_up_started', { agent_id: ANA, until: '2026-11-30T12:00:30Z' }), 'Ana started wrap-up'],
  [entry('disposition_set', { by: ANA, code: 'resolved', notes_chars: 12 }), 'Ana filed disposition resolved with notes'],
  [entry('disposition_set', { by: BEN, code: null, notes_chars: 0 }), 'Ben filed no disposition'],
  [entry('target_missed', { participant_id: P_PHONE, agent_id: null, phone: '+15550001111', status: 'busy' }), '+15550001111 did not answer (busy)'],
  [entry('customer_out_of_conference', { participant_id: P_CUSTOMER, reason: 'left' }), 'The customer dropped out of the conference'],
  [entry('conference_lost', { conference_sid: null }), 'The conference was lost'],
  [entry('customer_never_joined', { status: 'abandoned' }), 'The customer never reached the conference'],
  [entry('customer_joined_late', {}), 'The customer reached the conference late'],
  [entry('requeued', { reason: 'the agent left' }), 'Back in the queue: the agent left'],
  [
    entry('transfer_started', { transfer_id: T_BEN, mode: 'warm', by: ANA, to_agent_id: BEN, to_number: null }),
    'Ana started a warm transfer to Ben: ringing',
  ],
  [
    entry('transfer_started', { transfer_id: T_PHONE, mode: 'cold', by: ANA, to_agent_id: null, to_number: '+15550001111' }),
    'Ana started a cold transfer to +15550001111: ringing',
  ],
  [entry('handover_note', { transfer_id: T_BEN, by: ANA, note: 'Wants a refund' }), 'Ana left a note for Ben: “Wants a refund”'],
  [entry('transferred_to_queue', { by: ANA }), 'Ana sent the customer back to the queue'],
  [
    entry('transferred_to_queue', { by: ANA, note: 'Wants billing' }),
    'Ana sent the customer back to the queue, with a note for the next agent: “Wants billing”',
  ],
  [entry('transfer_to_queue_failed', { by: ANA }), 'Sending the customer back to the queue failed; they stayed with Ana'],
  [entry('transfer_target_joined', { transfer_id: T_BEN, participant_id: P_BEN }), 'Transfer to Ben: answered'],
  [entry('transfer_completed', { transfer_id: T_BEN, mode: 'warm', to_agent_id: BEN, to_number: null }), 'Transfer to Ben: completed'],
  [entry('transfer_canceled', { transfer_id: T_BEN, by: ANA }), 'Transfer to Ben: cancelled by Ana'],
  [entry('transfer_canceled', { transfer_id: T_BEN, reason: 'target left' }), 'Transfer to Ben: cancelled (target left)'],
  [entry('transfer_failed', { transfer_id: T_BEN, status: 'no_answer' }), 'Transfer to Ben: failed (no answer)'],
  [entry('hold', { participant_id: P_CUSTOMER, hold: true, by: ANA }), 'Ana put the customer on hold'],
  [entry('hold', { participant_id: P_CUSTOMER, hold: false, by: ANA }), 'Ana resumed the customer'],
  [entry('mute', { participant_id: P_CUSTOMER, muted: true, by: ANA }), 'Ana muted the customer'],
  [entry('mute', { participant_id: P_BEN, muted: false, by: ANA }), 'Ana unmuted Ben'],
  [entry('participant_removed', { participant_id: P_PHONE, by: BEN }), 'Ben removed +15550001111'],
  [entry('agent_leaving', { agent_id: ANA }), 'Ana left the call'],
  [entry('agent_handed_back', { agent_id: ANA, reason: 'signed out' }), 'Ana handed the call back (signed out)'],
  [entry('hangup_requested', { by: BEN }), 'Ben hung up'],
  [entry('hangup_requested', { by: GONE }), 'An agent no longer on the team hung up'],
  [entry('moved_to_front', { by: BEN }), 'Ben moved the call to the front of the queue'],
  [entry('monitor_started', { participant_id: P_BEN, by: BEN, mode: 'listen' }), 'Ben started listening to the call'],
  [entry('monitor_mode_changed', { participant_id: P_BEN, by: BEN, mode: 'whisper' }), 'Ben switched to coaching the agent on the call'],
  [entry('monitor_stopped', { participant_id: P_BEN, by: BEN }), 'Ben stopped listening'],
  [entry('monitor_missed', { participant_id: P_BEN, agent_id: BEN, status: 'busy' }), 'Ben did not join as supervisor (busy)'],
  [entry('taken_over', { by: BEN, from_agent_id: ANA }), 'Ben took the call over from Ana'],
  [entry('take_over_failed', { by: BEN }), 'Ben could not take the call over (Twilio refused); nothing changed'],
  [
    entry('monitor_mode_change_failed', { participant_id: P_BEN, by: BEN, mode: 'barge' }),
    'Ben could not switch to talking on the call (Twilio refused); nothing changed',
  ],
  [entry('assigned_to', { agent_id: ANA, by: BEN }), 'Ben gave the call to Ana'],
  [entry('call_ended', { status: 'completed', reason: 'customer hung up' }), 'Customer hung up'],
  [entry('call_ended', { status: 'completed', reason: 'conference ended' }), 'Call ended (conference ended)'],
  [entry('call_ended', { status: 'completed', reason: "the customer's call ended" }), 'Customer hung up'],
  [entry('leg_status', { participant_id: P_ANA, call_sid: SID_ANA, status: 'no-answer' }), "Twilio: Ana's line is no answer"],
  [
    entry('conference_event', { event: 'participant-hold', call_sid: SID_CUSTOMER, sequence: 4, hold: true, muted: null, reason: null }),
    'Twilio: the customer is on hold',
  ],
  [
    entry('conference_event', { event: 'participant-leave', call_sid: 'CA99999999999999999999999999999999', sequence: 9, reason: 'hangup' }),
    'Twilio: a participant left the conference',
  ],
  [entry('conference_event', { event: 'conference-end', sequence: 12 }), 'Twilio: the conference ended'],
  [entry('customer_rejoined', { dial_status: 'completed', rejoins: 1 }), 'The customer was put back in the conference'],
  [
    entry('outside_dial', { by: ANA, by_role: 'agent', number: '+15550001111', decision: 'allowed', reason: null, message: null }),
    'Ana dialed +15550001111: allowed',
  ],
  [
    entry('outside_dial', {
      by: ANA,
      by_role: 'agent',
      number: '+19005551234',
      decision: 'refused',
      reason: 'premium',
      message: 'premium numbers are not allowed',
    }),
    'Ana dialed +19005551234: refused (premium numbers are not allowed)',
  ],
  [entry('twilio_error', { request: 'hold', error: 'timed out' }), 'A request to Twilio failed: hold'],
  [entry('unknown', { stored_kind: 'call_adopted', stored_data: { conference: 'x' } }), 'Unrecognised entry (call_adopted)'],
];

/** Every kind the API serves; typed so that a kind added to (or dropped from) the API fails here. */
const ALL_KINDS: Record<TimelineKind, true> = {
  call_received: true,
  agent_ringing: true,
  participant_joined: true,
  participant_left: true,
  agent_missed: true,
  agent_declined: true,
  wrap_up_started: true,
  disposition_set: true,
  target_missed: true,
  customer_out_of_conference: true,
  conference_lost: true,
  customer_never_joined: true,
  customer_joined_late: true,
  requeued: true,
  transfer_started: true,
  handover_note: true,
  transferred_to_queue: true,
  transfer_to_queue_failed: true,
  transfer_target_joined: true,
  transfer_completed: true,
  transfer_canceled: true,
  transfer_failed: true,
  hold: true,
  mute: true,
  participant_removed: true,
  agent_leaving: true,
  agent_handed_back: true,
  hangup_requested: true,
  moved_to_front: true,
  monitor_started: true,
  monitor_mode_changed: true,
  monitor_stopped: true,
  monitor_missed: true,
  taken_over: true,
  take_over_failed: true,
  monitor_mode_change_failed: true,
  assigned_to: true,
  call_ended: true,
  leg_status: true,
  conference_event: true,
  customer_rejoined: true,
  outside_dial: true,
  twilio_error: true,
  unknown: true,
};

describe('timelineLabel', () => {
  it.each(CASES.map(([e, text]) => [e.kind, text, e] as const))('%s: %s', (_kind, text, e) => {
    expect(label(e)).toBe(text);
  });

  it('has a case for every kind', () => {
    const covered = new Set(CASES.map(([e]) => e.kind));
    expect([...covered].sort()).toEqual(Object.keys(ALL_KINDS).sort());
  });

  it('never shows SIDs, sequence numbers or ids in a label', () => {
    for (const [e] of CASES) {
      expect(label(e)).not.toMatch(/\bCA[0-9a-f]{32}\b|[0-9a-f]{8}-[0-9a-f]{4}-|sequence/i);
    }
  });

  it('labels a kind this build has never seen (sent by a newer server) without throwing', () => {
    const future = { kind: 'supervisor_whisper', data: { by: ANA } } as unknown as TimelineEntry;
    expect(label(future)).toBe('Unrecognised entry (supervisor_whisper)');
  });
});

describe('who hung up', () => {
  const ended = entry('call_ended', { status: 'completed', reason: 'customer hung up' });
  const hangup = entry('hangup_requested', { by: BEN });

  it('is the agent when one asked to hang up: the customer leaving after that is just the end', () => {
    const withHangup = { ...ctx, agentHungUp: agentHungUp([hangup, ended]) };
    expect([hangup, ended].map((e) => timelineLabel(e, withHangup))).toEqual(['Ben hung up', 'Call ended']);
  });

  it('is the customer otherwise', () => {
    expect(timelineLabel(ended, { ...ctx, agentHungUp: agentHungUp([ended]) })).toBe('Customer hung up');
  });
});

describe('timelineDetails', () => {
  it('lists the raw fields, SIDs and sequence numbers included, and skips empty ones', () => {
    const rows = timelineDetails(
      entry('conference_event', { event: 'participant-mute', call_sid: SID_CUSTOMER, sequence: 7, hold: null, muted: true, reason: null }),
    );
    expect(rows).toEqual([
      ['kind', 'conference_event'],
      ['event', 'participant-mute'],
      ['call_sid', SID_CUSTOMER],
      ['sequence', '7'],
      ['muted', 'true'],
    ]);
  });

  it('shows an unknown entry as stored', () => {
    expect(timelineDetails(entry('unknown', { stored_kind: 'hold', stored_data: { on_hold: true } }))).toEqual([
      ['kind', 'unknown'],
      ['stored_kind', 'hold'],
      ['stored_data', '{"on_hold":true}'],
    ]);
  });
});

describe('isTwilioReport', () => {
  it('tells raw Twilio callbacks from what people did', () => {
    expect(isTwilioReport(entry('conference_event', { event: 'conference-start' }))).toBe(true);
    expect(isTwilioReport(entry('leg_status', { participant_id: P_ANA, call_sid: SID_ANA, status: 'ringing' }))).toBe(true);
    expect(isTwilioReport(entry('hold', { participant_id: P_CUSTOMER, hold: true, by: ANA }))).toBe(false);
  });
});
