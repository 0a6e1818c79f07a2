import { describe, expect, it } from 'vitest';
import type { AgentView, CallDetail, Transfer } from '@/api';
import { makeAgent, makeCall } from '@/testing/fixtures';
import { endedCallMessage, senderMessage, targetMessage, transferProgress } from './transfer-outcome';

const ANA = makeAgent({ id: 'a-ana', display_name: 'Ana' });
const BEN = makeAgent({ id: 'a-ben', display_name: 'Ben' });
const team: AgentView[] = [ANA, BEN];

function transfer(overrides: Partial<Transfer> = {}): Transfer {
  return {
    id: 't-1',
    call_id: 'c-1',
    mode: 'warm',
    status: 'dialing',
    from_agent_id: ANA.id,
    to_agent_id: BEN.id,
    to_number: null,
    target_participant_id: null,
    created_at: '2026-01-01T09:01:00Z',
    answered_at: null,
    ended_at: null,
    note: null,
    end_reason: null,
    ended_by: null,
    requeued: false,
    ...overrides,
  };
}

const callWith = (...transfers: Transfer[]): CallDetail => makeCall({ transfers });

describe('what the transferring agent sees', () => {
  it('says ringing until the target answers, then talking', () => {
    expect(transferProgress(transfer(), callWith(), team)).toBe('Ringing Ben…');
    expect(transferProgress(transfer({ status: 'consulting' }), callWith(), team)).toBe('Talking to Ben');
    expect(transferProgress(transfer({ to_agent_id: null, to_number: '+14155550199' }), callWith(), team)).toBe('Ringing +14155550199…');
  });

  it('says why a transfer failed and where the customer is', () => {
    const failed = (over: Partial<Transfer>) => senderMessage(transfer({ status: 'failed', ...over }), callWith(), team, ANA.id);
    expect(failed({ end_reason: 'declined' })).toBe('Transfer failed: Ben declined the transfer. The customer is back with you.');
    expect(failed({ end_reason: 'no_answer', requeued: true, mode: 'cold' })).toBe(
      'Transfer failed: Ben did not answer. The customer went back to the queue.',
    );
    expect(failed({ end_reason: 'busy', to_agent_id: null, to_number: '+14155550199' })).toMatch(/\+14155550199 was busy/);
    expect(failed({ end_reason: 'target_signed_out', requeued: true })).toMatch(/Ben signed out before answering\. The customer went back to the queue\./);
  });

  it('tells a cancellation by someone else from one of their own', () => {
    const canceled = (over: Partial<Transfer>) => senderMessage(transfer({ status: 'canceled', ...over }), callWith(), team, ANA.id);
    expect(canceled({ end_reason: 'canceled', ended_by: ANA.id })).toBe('You cancelled the transfer to Ben.');
    expect(canceled({ end_reason: 'canceled', ended_by: BEN.id })).toBe('Transfer to Ben cancelled by Ben.');
    expect(canceled({ end_reason: 'target_hung_up' })).toBe('Ben hung up; the transfer is off.');
    expect(canceled({ end_reason: 'call_ended' })).toMatch(/customer hung up/);
  });
});

describe('what the target sees', () => {
  it('names who cancelled the transfer, never just "call ended"', () => {
    expect(targetMessage(transfer({ status: 'canceled', end_reason: 'canceled', ended_by: ANA.id }), team)).toBe('Transfer cancelled by Ana.');
    expect(targetMessage(transfer({ status: 'completed' }), team)).toBeNull();
  });
});

describe('endedCallMessage', () => {
  it('follows a cold transfer the agent left ringing to its outcome', () => {
    const cold = transfer({ mode: 'cold' });
    expect(endedCallMessage(callWith(cold), team, ANA.id)).toBe('Ringing Ben…');
    // Completed: the caller says "You handed the call over to Ben".
    expect(endedCallMessage(callWith({ ...cold, status: 'completed' }), team, ANA.id)).toBeNull();
    expect(endedCallMessage(callWith({ ...cold, status: 'failed', end_reason: 'no_answer', requeued: true }), team, ANA.id)).toMatch(
      /went back to the queue/,
    );
  });

  it('gives the target of a cancelled consult the canceller', () => {
    const t = transfer({ status: 'canceled', end_reason: 'canceled', ended_by: ANA.id });
    expect(endedCallMessage(callWith(t), team, BEN.id)).toBe('Transfer cancelled by Ana.');
  });

  it('says the agent sent the customer back to the queue', () => {
    const call = makeCall({ timeline: [{ id: 1, at: '2026-01-01T09:02:00Z', kind: 'transferred_to_queue', data: { by: ANA.id } }] });
    expect(endedCallMessage(call, team, ANA.id)).toBe('You sent the customer back to the queue.');
    expect(endedCallMessage(makeCall(), team, ANA.id)).toBeNull();
    const refused = makeCall({
      timeline: [
        { id: 1, at: '2026-01-01T09:02:00Z', kind: 'transferred_to_queue', data: { by: ANA.id } },
        { id: 2, at: '2026-01-01T09:02:01Z', kind: 'transfer_to_queue_failed', data: { by: ANA.id } },
      ],
    });
    expect(endedCallMessage(refused, team, ANA.id)).toBeNull();
  });
});
