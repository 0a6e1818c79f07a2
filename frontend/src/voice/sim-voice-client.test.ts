import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { DemoRinging, Participant } from '@/api';
import { LiveEvents } from '@/live';
import { fakeApi, noContent } from '@/testing/fake-backend';
import { jsonResponse, makeAgent, makeCall, makeParticipant } from '@/testing/fixtures';
import { Phone } from './phone';
import { SimVoiceClient, legIsUp } from './sim-voice-client';

const me = makeAgent();

function setup(options: { events?: LiveEvents; answerGraceMs?: number } = {}) {
  let ringing: DemoRinging[] = [];
  let myCall: ReturnType<typeof makeCall> | null = null;
  const accepted: string[] = [];
  const { api, calls } = fakeApi({
    'GET /api/demo/ringing': () => jsonResponse(200, ringing),
    'POST /api/demo/ringing/:sid/accept': (_r, _b, { sid }) => {
      if (!ringing.some((r) => r.call_sid === sid)) {
        return jsonResponse(409, { code: 'conflict', message: 'That call is no longer ringing.' });
      }
      accepted.push(sid!);
      ringing = ringing.filter((r) => r.call_sid !== sid);
      return noContent();
    },
    'POST /api/demo/ringing/:sid/reject': () => noContent(),
    'POST /api/demo/calls/:sid/hangup': () => noContent(),
    'GET /api/me/call': () => jsonResponse(200, { call: myCall }),
  });
  const client = new SimVoiceClient({ api, agentId: me.id, pollMs: 1_000, legCheckMs: 3_000, answerGraceMs: options.answerGraceMs ?? 5_000, events: options.events ?? null });
  const events: unknown[][] = [];
  for (const name of ['state', 'error', 'incoming', 'cancelled', 'accepted', 'disconnected'] as const) {
    client.on(name, ((...args: unknown[]) => events.push([name, ...args])) as never);
  }
  return {
    client,
    calls,
    events,
    accepted,
    setRinging: (list: DemoRinging[]) => (ringing = list),
    setMyCall: (call: ReturnType<typeof makeCall> | null) => (myCall = call),
  };
}

describe('SimVoiceClient', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('polls the ringing list every second while registered, and stops when unregistered', async () => {
    const t = setup();
    await t.client.register();
    expect(t.client.state).toBe('registered');
    t.setRinging([{ call_sid: 'CA1', from: '+15551230001', to: 'client:ada' }]);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(t.events).toContainEqual(['incoming', { callSid: 'CA1', from: '+15551230001', to: 'client:ada', parameters: {} }]);
    // Announced once, however often it is polled.
    await vi.advanceTimersByTimeAsync(3_000);
    expect(t.events.filter((e) => e[0] === 'incoming')).toHaveLength(1);

    await t.client.unregister();
    expect(t.events).toContainEqual(['cancelled', 'CA1']);
    const polls = t.calls.filter((c) => c === 'GET /api/demo/ringing').length;
    await vi.advanceTimersByTimeAsync(5_000);
    expect(t.calls.filter((c) => c === 'GET /api/demo/ringing').length).toBe(polls);
    t.client.destroy();
  });

  it('reports stopped ringing when a call leaves the list unanswered (answered in another tab)', async () => {
    const t = setup();
    t.setRinging([{ call_sid: 'CA1', from: '+1555', to: 'client:ada' }]);
    await t.client.register();
    expect(t.events.some((e) => e[0] === 'incoming')).toBe(true);
    t.setRinging([]);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(t.events).toContainEqual(['cancelled', 'CA1']);
    t.client.destroy();
  });

  it('accepts through the demo endpoint and ends the leg when the server says it is over', async () => {
    const t = setup();
    const up = makeCall({ participants: [makeParticipant({ id: 'pa', kind: 'agent', agent_id: me.id, call_sid: 'CA1' })] });
    t.setRinging([{ call_sid: 'CA1', from: '+1555', to: 'client:ada' }]);
    await t.client.register();
    t.setMyCall(up);
    await t.client.accept('CA1');
    expect(t.accepted).toEqual(['CA1']);
    expect(t.events).toContainEqual(['accepted', 'CA1']);

    // Still up: my participant is connected.
    await vi.advanceTimersByTimeAsync(3_000);
    expect(t.events.some((e) => e[0] === 'disconnected')).toBe(false);
    // The leg left (e.g. the transfer completed): disconnected at the next check, no grace needed
    // since the server had shown it up.
    t.setMyCall(null);
    await vi.advanceTimersByTimeAsync(3_000);
    expect(t.events).toContainEqual(['disconnected', 'CA1']);
    // Not announced again.
    expect(t.events.filter((e) => e[0] === 'accepted')).toHaveLength(1);
    t.client.destroy();
  });

  it('gives the server a grace period to show a just-answered leg', async () => {
    const t = setup({ answerGraceMs: 5_000 });
    t.setRinging([{ call_sid: 'CA1', from: '+1555', to: 'client:ada' }]);
    await t.client.register();
    await t.client.accept('CA1'); // the server does not show the call yet
    await vi.advanceTimersByTimeAsync(3_000);
    expect(t.events.some((e) => e[0] === 'disconnected')).toBe(false);
    await vi.advanceTimersByTimeAsync(3_000);
    expect(t.events).toContainEqual(['disconnected', 'CA1']);
    t.client.destroy();
  });

  it('checks the leg at once on a live call event', async () => {
    let push!: (chunk: string) => void;
    const events = new LiveEvents({
      open: async () => ({
        ok: true,
        stream: new ReadableStream<Uint8Array>({
          start(controller) {
            push = (chunk) => controller.enqueue(new TextEncoder().encode(chunk));
          },
        }),
      }),
    });
    events.start();
    const t = setup({ events });
    t.setRinging([{ call_sid: 'CA1', from: '+1555', to: 'client:ada' }]);
    await t.client.register();
    t.setMyCall(makeCall({ participants: [makeParticipant({ id: 'pa', kind: 'agent', agent_id: me.id, call_sid: 'CA1' })] }));
    await t.client.accept('CA1');
    await vi.advanceTimersByTimeAsync(0);
    t.setMyCall(makeCall({ status: 'completed' }));
    push(`event: call\ndata: ${JSON.stringify(makeCall({ status: 'completed' }))}\n\n`);
    await vi.advanceTimersByTimeAsync(10);
    expect(t.events).toContainEqual(['disconnected', 'CA1']);
    events.stop();
    t.client.destroy();
  });

  it('an accept that comes too late says why and stops ringing', async () => {
    const t = setup();
    t.setRinging([{ call_sid: 'CA1', from: '+1555', to: 'client:ada' }]);
    await t.client.register();
    t.setRinging([]);
    await expect(t.client.accept('CA1')).rejects.toThrow('That call is no longer ringing.');
    expect(t.events).toContainEqual(['cancelled', 'CA1']);
    t.client.destroy();
  });

  it('hangs up its leg through the demo endpoint', async () => {
    const t = setup();
    t.setRinging([{ call_sid: 'CA1', from: '+1555', to: 'client:ada' }]);
    await t.client.register();
    await t.client.accept('CA1');
    await t.client.hangup('CA1');
    expect(t.calls).toContain('POST /api/demo/calls/CA1/hangup');
    expect(t.events).toContainEqual(['disconnected', 'CA1']);
    t.client.destroy();
  });

  it('back to back: the phone rings the next leg even when it is seen before the last one ends', async () => {
    const t = setup();
    const phone = new Phone(t.client);
    phone.setWanted(true);
    await vi.advanceTimersByTimeAsync(0);
    t.setRinging([{ call_sid: 'CA1', from: '+15551230001', to: 'client:ada' }]);
    await vi.advanceTimersByTimeAsync(1_000);
    await phone.accept();
    t.setMyCall(makeCall({ participants: [makeParticipant({ id: 'pa', kind: 'agent', agent_id: me.id, call_sid: 'CA1' })] }));
    await vi.advanceTimersByTimeAsync(3_000);
    expect(phone.getSnapshot().call).toMatchObject({ phase: 'connected', call: { callSid: 'CA1' } });

    // The customer hangs up and the next caller rings this agent at once: the ringing poll (every
    // second) sees the new leg before the leg check (every 3 s) sees the old one end.
    t.setMyCall(null);
    t.setRinging([{ call_sid: 'CA2', from: '+15551230002', to: 'client:ada' }]);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(t.events).toContainEqual(['incoming', expect.objectContaining({ callSid: 'CA2' })]);
    await vi.advanceTimersByTimeAsync(3_000);
    expect(t.events).toContainEqual(['disconnected', 'CA1']);
    expect(phone.getSnapshot().call).toMatchObject({ phase: 'ringing', call: { callSid: 'CA2' } });
    await phone.accept();
    expect(t.accepted).toEqual(['CA1', 'CA2']);
    phone.destroy();
  });

  it('back to back: the last leg ends when the server already shows the next call ringing this agent', async () => {
    const t = setup();
    const phone = new Phone(t.client);
    phone.setWanted(true);
    await vi.advanceTimersByTimeAsync(0);
    t.setRinging([{ call_sid: 'CA1', from: '+15551230001', to: 'client:ada' }]);
    await vi.advanceTimersByTimeAsync(1_000);
    t.setMyCall(makeCall({ participants: [makeParticipant({ id: 'pa', kind: 'agent', agent_id: me.id, call_sid: 'CA1' })] }));
    await phone.accept();
    await vi.advanceTimersByTimeAsync(3_000);
    expect(phone.getSnapshot().call).toMatchObject({ phase: 'connected', call: { callSid: 'CA1' } });

    // The agent hangs up through the API; the router rings them for the next caller at once, so
    // GET /api/me/call answers with the next call (their leg in it being dialed, its sid not yet
    // recorded, then ringing) and never with "no call".
    const next = (callSid: string | null, status: Participant['status']) =>
      makeCall({
        id: 'c0a80101-0000-4000-8000-000000000002',
        status: 'ringing',
        participants: [
          makeParticipant({ id: 'pc2', call_sid: 'CAcustomer2' }),
          makeParticipant({ id: 'pb', kind: 'agent', agent_id: me.id, call_sid: callSid, status }),
        ],
      });
    t.setMyCall(next(null, 'dialing'));
    await vi.advanceTimersByTimeAsync(3_000);
    expect(t.events).toContainEqual(['disconnected', 'CA1']);
    t.setMyCall(next('CA2', 'ringing'));
    t.setRinging([{ call_sid: 'CA2', from: '+15551230002', to: 'client:ada' }]);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(phone.getSnapshot().call).toMatchObject({ phase: 'ringing', call: { callSid: 'CA2' } });
    await phone.accept();
    expect(t.accepted).toEqual(['CA1', 'CA2']);
    phone.destroy();
  });

  it('back to back: the next call seen first (ringing) does not keep the last leg up either', async () => {
    const t = setup();
    const phone = new Phone(t.client);
    phone.setWanted(true);
    await vi.advanceTimersByTimeAsync(0);
    t.setRinging([{ call_sid: 'CA1', from: '+15551230001', to: 'client:ada' }]);
    await vi.advanceTimersByTimeAsync(1_000);
    t.setMyCall(makeCall({ participants: [makeParticipant({ id: 'pa', kind: 'agent', agent_id: me.id, call_sid: 'CA1' })] }));
    await phone.accept();
    await vi.advanceTimersByTimeAsync(0);

    t.setRinging([{ call_sid: 'CA2', from: '+15551230002', to: 'client:ada' }]);
    t.setMyCall(
      makeCall({
        id: 'c0a80101-0000-4000-8000-000000000002',
        status: 'ringing',
        participants: [makeParticipant({ id: 'pb', kind: 'agent', agent_id: me.id, call_sid: 'CA2', status: 'ringing' })],
      }),
    );
    await vi.advanceTimersByTimeAsync(3_000);
    expect(t.events).toContainEqual(['disconnected', 'CA1']);
    expect(phone.getSnapshot().call).toMatchObject({ phase: 'ringing', call: { callSid: 'CA2' } });
    phone.destroy();
  });

  it('fails to register with a clear message when the server has no demo phone', async () => {
    const { api } = fakeApi({});
    const client = new SimVoiceClient({ api, agentId: me.id });
    await expect(client.register()).rejects.toThrow('The demo phone is not available on this server.');
    expect(client.state).toBe('error');
  });
});

describe('legIsUp', () => {
  const agentLeg = (status: Participant['status'], callSid: string | null = 'CA1') =>
    makeParticipant({ id: 'pa', kind: 'agent', agent_id: me.id, call_sid: callSid, status });
  it('follows the leg by call sid, then by agent', () => {
    expect(legIsUp(null, 'CA1', me.id)).toBe(false);
    expect(legIsUp(makeCall({ participants: [agentLeg('connected')] }), 'CA1', me.id)).toBe(true);
    expect(legIsUp(makeCall({ participants: [agentLeg('left')] }), 'CA1', me.id)).toBe(false);
    expect(legIsUp(makeCall({ participants: [agentLeg('connected', null)] }), 'CA1', me.id)).toBe(true);
    expect(legIsUp(makeCall({ status: 'completed', participants: [agentLeg('connected')] }), 'CA1', me.id)).toBe(false);
  });
  it('a live participant of this agent with another sid is another leg', () => {
    expect(legIsUp(makeCall({ participants: [agentLeg('ringing', 'CA2')] }), 'CA1', me.id)).toBe(false);
    expect(legIsUp(makeCall({ participants: [agentLeg('dialing', null)] }), 'CA1', me.id)).toBe(true);
  });
  it('a leg seen up in one call is over once the agent\'s current call is another', () => {
    const call = makeCall({ participants: [agentLeg('dialing', null)] });
    expect(legIsUp(call, 'CA1', me.id, call.id)).toBe(true);
    expect(legIsUp(call, 'CA1', me.id, 'c0a80101-0000-4000-8000-00000000000f')).toBe(false);
  });
});
