import { describe, expect, it } from 'vitest';
import type { Transfer } from '@/api';
import { makeAgent, makeCall, makeParticipant } from '@/testing/fixtures';
import { aloneWithCustomer, supervisorNotice } from './call-model';

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
