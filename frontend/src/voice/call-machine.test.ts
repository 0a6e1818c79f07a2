import { describe, expect, it } from 'vitest';
import { IDLE, isBusy, step, transition, type CallState, type PhoneEvent } from './call-machine';

const call = { callSid: 'CA1', from: '+15551230001', to: 'ada', parameters: {} };
const other = { callSid: 'CA2', from: '+15551230002', to: 'ada', parameters: {} };

function run(events: PhoneEvent[], from: CallState = IDLE): CallState {
  return events.reduce(transition, from);
}

describe('call state machine', () => {
  it('goes idle → ringing → connected → ended → idle', () => {
    let s = transition(IDLE, { type: 'incoming', call, at: 1000 });
    expect(s).toMatchObject({ phase: 'ringing', call, since: 1000, answering: false });
    s = transition(s, { type: 'answer' });
    expect(s).toMatchObject({ phase: 'ringing', answering: true });
    s = transition(s, { type: 'accepted', callSid: 'CA1', at: 3000 });
    expect(s).toMatchObject({ phase: 'connected', since: 3000, muted: false, hangingUp: false });
    s = transition(s, { type: 'disconnected', callSid: 'CA1', at: 63_000 });
    expect(s).toEqual({ phase: 'ended', call, reason: 'remote_hangup', at: 63_000, connectedMs: 60_000 });
    expect(transition(s, { type: 'dismiss' })).toBe(IDLE);
  });

  it('resumes a leg that stayed up through a page reload, only when no other call is in hand', () => {
    const s = transition(IDLE, { type: 'resumed', call, at: 500 });
    expect(s).toMatchObject({ phase: 'connected', call, since: 500, muted: false, hangingUp: false, waiting: null });
    expect(transition(s, { type: 'disconnected', callSid: 'CA1', at: 1500 })).toMatchObject({ phase: 'ended', reason: 'remote_hangup', connectedMs: 1000 });
    const ringingOther = transition(IDLE, { type: 'incoming', call: other, at: 0 });
    expect(transition(ringingOther, { type: 'resumed', call, at: 10 })).toBe(ringingOther);
    expect(transition(s, { type: 'resumed', call: other, at: 10 })).toBe(s);
  });

  it('records a local hang-up as such', () => {
    const s = run([
      { type: 'incoming', call, at: 0 },
      { type: 'accepted', callSid: 'CA1', at: 10 },
      { type: 'hangup' },
      { type: 'disconnected', callSid: 'CA1', at: 20 },
    ]);
    expect(s).toMatchObject({ phase: 'ended', reason: 'local_hangup', connectedMs: 10 });
  });

  it('a declined call ends as rejected at once', () => {
    const s = run([
      { type: 'incoming', call, at: 0 },
      { type: 'decline', at: 5 },
    ]);
    expect(s).toMatchObject({ phase: 'ended', reason: 'rejected', connectedMs: null });
  });

  it('stops ringing when the call is cancelled (answered in another tab, caller hung up)', () => {
    const s = run([
      { type: 'incoming', call, at: 0 },
      { type: 'answer' },
      { type: 'cancelled', callSid: 'CA1', at: 7 },
    ]);
    expect(s).toMatchObject({ phase: 'ended', reason: 'missed', at: 7 });
  });

  it('a disconnect while ringing is a missed call', () => {
    const s = run([
      { type: 'incoming', call, at: 0 },
      { type: 'disconnected', callSid: 'CA1', at: 3 },
    ]);
    expect(s).toMatchObject({ phase: 'ended', reason: 'missed' });
  });

  it('keeps ringing with the reason when answering fails', () => {
    const s = run([
      { type: 'incoming', call, at: 0 },
      { type: 'answer' },
      { type: 'answer_failed', callSid: 'CA1', error: 'Microphone blocked' },
    ]);
    expect(s).toMatchObject({ phase: 'ringing', answering: false, error: 'Microphone blocked' });
  });

  it('ignores a duplicate invite for the call in hand', () => {
    const ringing = transition(IDLE, { type: 'incoming', call, at: 0 });
    expect(transition(ringing, { type: 'incoming', call, at: 1 })).toBe(ringing);
    const connected = transition(ringing, { type: 'accepted', callSid: 'CA1', at: 2 });
    expect(transition(connected, { type: 'incoming', call, at: 3 })).toBe(connected);
  });

  describe('back-to-back calls: the next call rings whatever the order of the events', () => {
    const connected = run([
      { type: 'incoming', call, at: 0 },
      { type: 'accepted', callSid: 'CA1', at: 10 },
    ]);

    it('disconnect, then the next invite', () => {
      const s = run(
        [
          { type: 'disconnected', callSid: 'CA1', at: 1_000 },
          { type: 'incoming', call: other, at: 1_025 },
        ],
        connected,
      );
      expect(s).toMatchObject({ phase: 'ringing', call: other, since: 1_025, answering: false });
    });

    it('the next invite, then the disconnect of the call in hand', () => {
      const waiting = transition(connected, { type: 'incoming', call: other, at: 1_000 });
      // Still talking: the call in hand is kept, the invite waits (no ringing over the call).
      expect(waiting).toMatchObject({ phase: 'connected', call });
      const s = transition(waiting, { type: 'disconnected', callSid: 'CA1', at: 1_003 });
      expect(s).toMatchObject({ phase: 'ringing', call: other, since: 1_000, answering: false, error: null });
    });

    it('the next invite while hanging up locally, then the disconnect', () => {
      const s = run(
        [
          { type: 'hangup' },
          { type: 'incoming', call: other, at: 1_000 },
          { type: 'disconnected', callSid: 'CA1', at: 1_001 },
        ],
        connected,
      );
      expect(s).toMatchObject({ phase: 'ringing', call: other });
    });

    it('reports the call that ended when the next one rings at once', () => {
      const waiting = transition(connected, { type: 'incoming', call: other, at: 1_000 });
      const { state, ended } = step(waiting, { type: 'disconnected', callSid: 'CA1', at: 1_010 });
      expect(state).toMatchObject({ phase: 'ringing', call: other });
      expect(ended).toEqual({ phase: 'ended', call, reason: 'remote_hangup', at: 1_010, connectedMs: 1_000 });
    });

    it('a waiting invite that stops ringing is forgotten', () => {
      const s = run(
        [
          { type: 'incoming', call: other, at: 1_000 },
          { type: 'cancelled', callSid: 'CA2', at: 1_500 },
          { type: 'disconnected', callSid: 'CA1', at: 2_000 },
        ],
        connected,
      );
      expect(s).toMatchObject({ phase: 'ended', call, reason: 'remote_hangup' });
    });

    it('a new invite while the previous one still rings here rings once that one stops', () => {
      const ringing = transition(IDLE, { type: 'incoming', call, at: 0 });
      const waiting = transition(ringing, { type: 'incoming', call: other, at: 5 });
      expect(waiting).toMatchObject({ phase: 'ringing', call });
      expect(transition(waiting, { type: 'cancelled', callSid: 'CA1', at: 6 })).toMatchObject({ phase: 'ringing', call: other });
    });
  });

  it('a new call may ring while the last one is still shown as ended', () => {
    const ended = run([
      { type: 'incoming', call, at: 0 },
      { type: 'decline', at: 1 },
    ]);
    expect(transition(ended, { type: 'incoming', call: other, at: 2 })).toMatchObject({ phase: 'ringing', call: other });
  });

  it('ignores events about another call', () => {
    const ringing = transition(IDLE, { type: 'incoming', call, at: 0 });
    expect(transition(ringing, { type: 'cancelled', callSid: 'CA2', at: 1 })).toBe(ringing);
    expect(transition(ringing, { type: 'accepted', callSid: 'CA2', at: 1 })).toBe(ringing);
    const connected = transition(ringing, { type: 'accepted', callSid: 'CA1', at: 2 });
    expect(transition(connected, { type: 'disconnected', callSid: 'CA2', at: 3 })).toBe(connected);
    expect(transition(connected, { type: 'cancelled', callSid: 'CA1', at: 3 })).toBe(connected);
  });

  it('ignores actions that do not fit the phase', () => {
    expect(transition(IDLE, { type: 'answer' })).toBe(IDLE);
    expect(transition(IDLE, { type: 'hangup' })).toBe(IDLE);
    expect(transition(IDLE, { type: 'decline', at: 0 })).toBe(IDLE);
    expect(transition(IDLE, { type: 'dismiss' })).toBe(IDLE);
    const answering = run([{ type: 'incoming', call, at: 0 }, { type: 'answer' }]);
    expect(transition(answering, { type: 'answer' })).toBe(answering);
  });

  it('tracks mute and a failed hang-up', () => {
    let s = run([
      { type: 'incoming', call, at: 0 },
      { type: 'accepted', callSid: 'CA1', at: 1 },
      { type: 'muted', callSid: 'CA1', muted: true },
    ]);
    expect(s).toMatchObject({ phase: 'connected', muted: true });
    s = transition(s, { type: 'hangup' });
    s = transition(s, { type: 'hangup_failed', callSid: 'CA1', error: 'offline' });
    expect(s).toMatchObject({ phase: 'connected', hangingUp: false, error: 'offline' });
  });

  it('isBusy is true while ringing or connected', () => {
    const ringing = transition(IDLE, { type: 'incoming', call, at: 0 });
    const connected = transition(ringing, { type: 'accepted', callSid: 'CA1', at: 1 });
    const ended = transition(connected, { type: 'disconnected', callSid: 'CA1', at: 2 });
    expect([IDLE, ringing, connected, ended].map(isBusy)).toEqual([false, true, true, false]);
  });
});
