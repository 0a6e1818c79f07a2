import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Emitter } from './emitter';
import { Phone } from './phone';
import { createSilentRinger } from './ringer';
import type { VoiceClient, VoiceClientEvents, VoiceClientState } from './types';

class FakeVoice implements VoiceClient {
  readonly kind = 'demo' as const;
  state: VoiceClientState = 'unregistered';
  emitter = new Emitter<VoiceClientEvents>();
  failRegister = 0;
  register = vi.fn(async () => {
    this.set('registering');
    if (this.failRegister > 0) {
      this.failRegister--;
      this.set('error');
      throw new Error('no token');
    }
    this.set('registered');
  });
  unregister = vi.fn(async () => this.set('unregistered'));
  accept = vi.fn(async (sid: string) => this.emitter.emit('accepted', sid));
  reject = vi.fn(async () => {});
  hangup = vi.fn(async (sid: string) => this.emitter.emit('disconnected', sid));
  mute = vi.fn();
  destroy = vi.fn();
  on<E extends keyof VoiceClientEvents>(event: E, l: VoiceClientEvents[E]) {
    return this.emitter.on(event, l);
  }
  set(state: VoiceClientState) {
    this.state = state;
    this.emitter.emit('state', state);
  }
  ring(callSid = 'CA1') {
    this.emitter.emit('incoming', { callSid, from: '+15551230001', to: 'ada', parameters: {} });
  }
}

describe('Phone', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  function setup() {
    const voice = new FakeVoice();
    const ringer = createSilentRinger();
    const phone = new Phone(voice, {
      ringer,
      endedLingerMs: 5_000,
      random: () => 0.5,
      backoff: { initialMs: 1_000, maxMs: 8_000, factor: 2, jitter: 0 },
    });
    return { voice, ringer, phone };
  }

  it('registers while wanted and unregisters otherwise', async () => {
    const { voice, phone } = setup();
    phone.setWanted(true);
    await vi.advanceTimersByTimeAsync(0);
    expect(voice.register).toHaveBeenCalledTimes(1);
    expect(phone.getSnapshot().device).toBe('registered');
    phone.setWanted(false);
    await vi.advanceTimersByTimeAsync(0);
    expect(voice.unregister).toHaveBeenCalledTimes(1);
    expect(phone.getSnapshot().device).toBe('unregistered');
  });

  it('follows quick toggles to the last wish', async () => {
    const { voice, phone } = setup();
    phone.setWanted(true);
    phone.setWanted(false);
    phone.setWanted(true);
    await vi.advanceTimersByTimeAsync(0);
    expect(phone.getSnapshot().device).toBe('registered');
    expect(voice.register).toHaveBeenCalledTimes(1);
  });

  it('retries a failed registration with backoff and shows the error meanwhile', async () => {
    const { voice, phone } = setup();
    voice.failRegister = 2;
    phone.setWanted(true);
    await vi.advanceTimersByTimeAsync(0);
    expect(phone.getSnapshot().error?.message).toBe('no token');
    expect(phone.getSnapshot().retryAt).not.toBeNull();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(voice.register).toHaveBeenCalledTimes(2);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(voice.register).toHaveBeenCalledTimes(3);
    expect(phone.getSnapshot()).toMatchObject({ device: 'registered', error: null, retryAt: null });
  });

  it('retries when the client fails on its own while wanted (a re-registration that timed out)', async () => {
    const { voice, phone } = setup();
    phone.setWanted(true);
    await vi.advanceTimersByTimeAsync(0);
    voice.emitter.emit('error', { code: 'register_timeout', message: 'The phone did not finish connecting.' });
    voice.set('error');
    expect(phone.getSnapshot().retryAt).not.toBeNull();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(voice.register).toHaveBeenCalledTimes(2);
    expect(phone.getSnapshot()).toMatchObject({ device: 'registered', error: null });
  });

  it('rings, answers and hangs up; the ringer follows the ringing phase', async () => {
    const { voice, phone, ringer } = setup();
    phone.setWanted(true);
    await vi.advanceTimersByTimeAsync(0);
    voice.ring();
    expect(phone.getSnapshot().call.phase).toBe('ringing');
    expect(ringer.ringing).toBe(true);
    await phone.accept();
    expect(voice.accept).toHaveBeenCalledWith('CA1');
    expect(phone.getSnapshot().call.phase).toBe('connected');
    expect(ringer.ringing).toBe(false);
    await phone.hangup();
    expect(phone.getSnapshot().call).toMatchObject({ phase: 'ended', reason: 'local_hangup' });
    expect(phone.getSnapshot().lastCall).toMatchObject({ from: '+15551230001', reason: 'local_hangup' });
    await vi.advanceTimersByTimeAsync(5_000);
    expect(phone.getSnapshot().call.phase).toBe('idle');
  });

  it('keeps ringing with the reason when the answer fails', async () => {
    const { voice, phone } = setup();
    voice.ring();
    voice.accept.mockRejectedValueOnce(new Error('That call was answered by someone else.'));
    await phone.accept();
    expect(phone.getSnapshot().call).toMatchObject({
      phase: 'ringing',
      answering: false,
      error: 'That call was answered by someone else.',
    });
  });

  it('stops ringing in this tab when another tab answers', () => {
    const { voice, phone, ringer } = setup();
    voice.ring();
    voice.emitter.emit('cancelled', 'CA1');
    expect(phone.getSnapshot().call).toMatchObject({ phase: 'ended', reason: 'missed' });
    expect(ringer.ringing).toBe(false);
  });

  it('does not unregister during a call; does so once it ends', async () => {
    const { voice, phone } = setup();
    phone.setWanted(true);
    await vi.advanceTimersByTimeAsync(0);
    voice.ring();
    await phone.accept();
    phone.setWanted(false);
    await vi.advanceTimersByTimeAsync(0);
    expect(voice.unregister).not.toHaveBeenCalled();
    voice.emitter.emit('disconnected', 'CA1');
    await vi.advanceTimersByTimeAsync(0);
    expect(voice.unregister).toHaveBeenCalledTimes(1);
  });

  it('rings the next call when its invite comes before the last call is over', async () => {
    const { voice, phone, ringer } = setup();
    phone.setWanted(true);
    await vi.advanceTimersByTimeAsync(0);
    voice.ring('CA1');
    await phone.accept();
    // The backend rings this agent again ~25 ms after the call ended; the invite beats the disconnect.
    voice.ring('CA2');
    expect(phone.getSnapshot().call).toMatchObject({ phase: 'connected', call: { callSid: 'CA1' } });
    expect(ringer.ringing).toBe(false);
    voice.emitter.emit('disconnected', 'CA1');
    expect(phone.getSnapshot().call).toMatchObject({ phase: 'ringing', call: { callSid: 'CA2' } });
    expect(phone.getSnapshot().lastCall).toMatchObject({ reason: 'remote_hangup' });
    expect(ringer.ringing).toBe(true);
    await phone.accept();
    expect(voice.accept).toHaveBeenLastCalledWith('CA2');
    expect(phone.getSnapshot().call).toMatchObject({ phase: 'connected', call: { callSid: 'CA2' } });
  });

  // PEER-BUGS row 17 (twilio-voice.js #133, #222, #312): the ringtone must stop when a call is
  // accepted and then disconnects at once, whichever event comes first.
  it('stops the ringtone when an accepted call disconnects at once', async () => {
    const { voice, phone, ringer } = setup();
    voice.ring('CA1');
    expect(ringer.ringing).toBe(true);
    voice.accept.mockImplementationOnce(async (sid: string) => {
      voice.emitter.emit('accepted', sid);
      voice.emitter.emit('disconnected', sid);
    });
    await phone.accept();
    expect(ringer.ringing).toBe(false);
    expect(phone.getSnapshot().call).toMatchObject({ phase: 'ended' });
    await vi.advanceTimersByTimeAsync(10_000);
    expect(ringer.ringing).toBe(false);
  });

  it('stops the ringtone when the call disconnects while the answer is still under way', async () => {
    const { voice, phone, ringer } = setup();
    voice.ring('CA1');
    voice.accept.mockImplementationOnce(async (sid: string) => {
      voice.emitter.emit('disconnected', sid);
    });
    await phone.accept();
    expect(ringer.ringing).toBe(false);
    expect(phone.getSnapshot().call.phase).toBe('ended');
    await vi.advanceTimersByTimeAsync(10_000);
    expect(ringer.ringing).toBe(false);
  });

  it('declines a call', async () => {
    const { voice, phone } = setup();
    voice.ring();
    await phone.reject();
    expect(voice.reject).toHaveBeenCalledWith('CA1');
    expect(phone.getSnapshot().call).toMatchObject({ phase: 'ended', reason: 'rejected' });
  });

  it('shows device errors until dismissed', () => {
    const { voice, phone } = setup();
    voice.emitter.emit('error', { code: 31401, message: 'Microphone access was denied.' });
    expect(phone.getSnapshot().error?.code).toBe(31401);
    phone.dismissError();
    expect(phone.getSnapshot().error).toBeNull();
  });

  it('ensureRegistered waits for the registration and reports why it failed', async () => {
    const { voice, phone } = setup();
    voice.failRegister = 1;
    voice.register.mockImplementationOnce(async () => {
      voice.emitter.emit('error', { code: 'x', message: 'Voice is not configured.' });
      voice.set('error');
      throw new Error('Voice is not configured.');
    });
    await expect(phone.ensureRegistered()).resolves.toBe('Voice is not configured.');
    voice.failRegister = 0;
    await expect(phone.ensureRegistered()).resolves.toBeNull();
    expect(phone.getSnapshot()).toMatchObject({ device: 'registered', wanted: true });
    await expect(phone.ensureRegistered()).resolves.toBeNull();
    expect(voice.register).toHaveBeenCalledTimes(2);
  });

  it('destroy() releases the client', () => {
    const { voice, phone } = setup();
    phone.destroy();
    expect(voice.destroy).toHaveBeenCalled();
    voice.ring();
    expect(phone.getSnapshot().call.phase).toBe('idle');
  });
});
