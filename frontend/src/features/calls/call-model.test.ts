import { describe, expect, it } from 'vitest';
import type { Transfer } from '@/api';
import { makeAgent, makeCall, makeParticipant } from '@/testing/fixtures';
import { aloneWithCustomer, handedNote, supervisorNotice } from './call-model';

const me = makeAgent();
const customer = makeParticipant({ id: 'p-customer' });
const mine = makeParticipant({ id: 'p-me', kind: 'agent', agent_id: me.id, phone: null, call_sid: 'CAme' });
const colleague = makeParticipant({ id: 'p-bob', kind: 'agent', agent_id: 'bob', phone: null, call_sid: 'CAbob' });
const external = makeParticipant({ id: 'p-ext', kind: 'external', agent_id: null, phone: '+15557654321', call_sid: 'CAext' });

describe('aloneWithCustomer', () => {
  it('is true when this agent is the only one with the customer', () => {
    expect(aloneWithCustomer(makeCall({ participants: [customer, mine] }), me.id)).toBe(true);
    // Someone who already left does not count.
    expect(aloneWithCustomer(makeCall({ participants: [customer, mine, { ...colleague, status: 'left' }] }), me.id)).toBe(true);
  });

  it('is false with a colleague or a transfer target on the line', () => {
    expect(aloneWithCustomer(makeCall({ participants: [customer, mine, colleague] }), me.id)).toBe(false);
    expect(aloneWithCustomer(makeCall({ participants: [customer, mine, external] }), me.id)).toBe(false);
  });

  it('is true while a transfer target is still being dialled (nobody would be with the customer)', () => {
    const target = { ...colleague, status: 'ringing' as const, joined_at: null };
    const transfer = { id: 't', status: 'dialing', to_agent_id: 'bob', target_participant_id: 'p-bob' } as Transfer;
    expect(aloneWithCustomer(makeCall({ participants: [customer, mine, target], transfers: [transfer] }), me.id)).toBe(true);
  });

  it('is false when the customer is gone, or this agent is not on the call', () => {
    expect(aloneWithCustomer(makeCall({ participants: [{ ...customer, status: 'left' }, mine] }), me.id)).toBe(false);
    expect(aloneWithCustomer(makeCall({ participants: [customer, colleague] }), me.id)).toBe(false);
  });
});

describe('handedNote', () => {
  const toMe = (note: string | null, at: string) =>
    ({ id: `t-${at}`, to_agent_id: me.id, from_agent_id: 'bob', note, created_at: at }) as Transfer;
  const sentBack = (by: string, note: string | undefined, at: string) => ({
    id: Date.parse(at),
    at,
    kind: 'transferred_to_queue' as const,
    data: { by, ...(note ? { note } : {}) },
  });

  it('is the latest note handed to this agent, by transfer or left with the queue', () => {
    const call = makeCall({
      transfers: [toMe('from the transfer', '2026-01-01T09:00:00Z')],
      timeline: [sentBack('carol', 'from the queue', '2026-01-01T09:05:00Z')],
    });
    expect(handedNote(call, me.id)).toEqual({ note: 'from the queue', fromAgentId: 'carol', viaQueue: true });
    const later = makeCall({ ...call, transfers: [toMe('from the transfer', '2026-01-01T09:10:00Z')] });
    expect(handedNote(later, me.id)).toEqual({ note: 'from the transfer', fromAgentId: 'bob', viaQueue: false });
  });

  it('leaves out a note this agent left themselves, blank notes, and transfers to others', () => {
    const call = makeCall({
      transfers: [{ ...toMe('for someone else', '2026-01-01T09:00:00Z'), to_agent_id: 'dave' }, toMe(null, '2026-01-01T09:01:00Z')],
      timeline: [sentBack(me.id, 'my own', '2026-01-01T09:05:00Z'), sentBack('carol', undefined, '2026-01-01T09:06:00Z')],
    });
    expect(handedNote(call, me.id)).toBeNull();
  });

  it('drops a note whose transfer to the queue Twilio refused (the call stayed with its agent)', () => {
    const refused = {
      id: Date.parse('2026-01-01T09:05:01Z'),
      at: '2026-01-01T09:05:01Z',
      kind: 'transfer_to_queue_failed' as const,
      data: { by: 'carol' },
    };
    const call = makeCall({ timeline: [sentBack('carol', 'never sent', '2026-01-01T09:05:00Z'), refused] });
    expect(handedNote(call, me.id)).toBeNull();
  });
});

describe('supervisorNotice', () => {
  const sue = makeParticipant({ id: 'p-sue', kind: 'supervisor', agent_id: 'sue', display_name: 'Sue', phone: null, call_sid: 'CAsue', monitor_mode: 'listen' });
  const owned = (p = sue) => makeCall({ owner_agent_id: me.id, participants: [customer, mine, p] });

  it('tells the call\'s agent how the supervisor is on it', () => {
    expect(supervisorNotice(owned(), me.id)?.text).toBe('Sue is listening');
    expect(supervisorNotice(owned({ ...sue, monitor_mode: 'whisper' }), me.id)?.text).toMatch(/^Sue is coaching you/);
    expect(supervisorNotice(owned({ ...sue, monitor_mode: 'barge' }), me.id)?.text).toBe('Sue joined the call');
  });

  it('says nothing while the supervisor rings or after they left, nor to anyone but the owner', () => {
    expect(supervisorNotice(owned({ ...sue, status: 'ringing' }), me.id)).toBeNull();
    expect(supervisorNotice(owned({ ...sue, status: 'left' }), me.id)).toBeNull();
    expect(supervisorNotice(owned(), 'bob')).toBeNull();
  });

  it('does not count a supervisor as someone with the customer', () => {
    expect(aloneWithCustomer(owned(), me.id)).toBe(true);
  });
});
