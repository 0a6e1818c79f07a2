import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { describeSdkError, TwilioVoiceClient, type SdkCall, type SdkDevice, type SdkDeviceOptions } from './twilio-voice-client';

type Handler = (...args: unknown[]) => void;

class FakeEmitter {
  handlers = new Map<string, Handler[]>();
  on(event: string, listener: Handler) {
    this.handlers.set(event, [...(this.handlers.get(event) ?? []), listener]);
    return this;
  }
  fire(event: string, ...args: unknown[]) {
    for (const h of this.handlers.get(event) ?? []) h(...args);
  }
}

class FakeCall extends FakeEmitter implements SdkCall {
  customParameters = new Map([['call_id', 'c-1']]);
  up = false;
  accept = vi.fn(() => {
    this.up = true;
    this.fire('accept', this);
  });
  reject = vi.fn();
  disconnect = vi.fn(() => this.fire('disconnect', this));
  override fire(event: string, ...args: unknown[]) {
    if (event === 'disconnect' || event === 'cancel') this.up = false;
    super.fire(event, ...args);
  }
  mute = vi.fn((m?: boolean) => this.fire('mute', m, this));
  constructor(public parameters: Record<string, string>) {
    super();
  }
}

class FakeDevice extends FakeEmitter implements SdkDevice {
  state = 'unregistered';
  tokens: string[] = [];
  incomingSound = true;
  audio = { incoming: (enable?: boolean) => (this.incomingSound = enable ?? this.incomingSound) };
  register = vi.fn(async () => {
    // As the SDK: only an unregistered Device may register.
    if (this.state !== 'unregistered') throw new Error(`Attempt to register when device is in state "${this.state}".`);
    this.state = 'registering';
    this.fire('registering');
    this.state = 'registered';
    this.fire('registered');
  });
  unregister = vi.fn(async () => {
    this.state = 'unregistered';
    this.fire('unregistered');
  });
  updateToken = vi.fn((t: string) => this.tokens.push(t));
  /** The signalling WebSocket dropped: the SDK unregisters, and re-registers by itself once it is back. */
  lose() {
    this.state = 'unregistered';
    this.fire('unregistered');
  }
  reconnect() {
    this.state = 'registering';
    this.fire('registering');
  }
  ready() {
    this.state = 'registered';
    this.fire('registered');
  }
  destroy = vi.fn();
  constructor(
    public token: string,
    public options: SdkDeviceOptions,
  ) {
    super();
  }
  /** An invite from Twilio, as the SDK treats it: dropped while a call is up unless allowIncomingWhileBusy. */
  invite(call: FakeCall) {
    const busy = this.calls.some((c) => c.up);
    if (busy && !this.options.allowIncomingWhileBusy) return;
    this.calls.push(call);
    this.fire('incoming', call);
  }
  private calls: FakeCall[] = [];
}

function setup() {
  let n = 0;
  const fetchToken = vi.fn(async () => ({ token: `tok${++n}`, expiresAt: Date.now() + 3_600_000 }));
  let device!: FakeDevice;
  const devices: FakeDevice[] = [];
  const client = new TwilioVoiceClient({
    fetchToken,
    createDevice: async () => (token, options) => {
      device = new FakeDevice(token, options);
      devices.push(device);
      return device;
    },
    registerTimeoutMs: 20_000,
  });
  const events: unknown[][] = [];
  for (const name of ['state', 'error', 'incoming', 'cancelled', 'accepted', 'disconnected', 'muted'] as const) {
    client.on(name, ((...args: unknown[]) => events.push([name, ...args])) as never);
  }
  return { client, fetchToken, device: () => device, devices, events };
}

describe('TwilioVoiceClient', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('creates the Device with a fresh token and Twilio-safe options, then registers', async () => {
    const { client, device, fetchToken } = setup();
    await client.register();
    expect(fetchToken).toHaveBeenCalledTimes(1);
    expect(device().token).toBe('tok1');
    expect(device().options).toMatchObject({ allowIncomingWhileBusy: true, tokenRefreshMs: 10_000 });
    expect(device().options.closeProtection).toBeTruthy();
    expect(device().incomingSound).toBe(false); // our own ringer plays instead
    expect(client.state).toBe('registered');
    // Registering again reuses the device.
    await client.unregister();
    expect(client.state).toBe('unregistered');
    await client.register();
    expect(device().register).toHaveBeenCalledTimes(2);
    client.destroy();
    expect(device().destroy).toHaveBeenCalled();
  });

  it('updates the token on tokenWillExpire', async () => {
    const { client, device, fetchToken } = setup();
    await client.register();
    device().fire('tokenWillExpire', device());
    await vi.advanceTimersByTimeAsync(0);
    expect(fetchToken).toHaveBeenCalledTimes(2);
    expect(device().updateToken).toHaveBeenCalledWith('tok2');
    client.destroy();
  });

  it('fetches a new token after an "access token expired" error and reports device errors', async () => {
    const { client, device, events } = setup();
    await client.register();
    device().fire('error', { code: 20104, message: 'AccessTokenExpired' });
    await vi.advanceTimersByTimeAsync(0);
    expect(device().updateToken).toHaveBeenCalledWith('tok2');
    device().fire('error', { code: 31401, message: 'UserMediaError' });
    const errors = events.filter((e) => e[0] === 'error').map((e) => (e[1] as { code: number; message: string }));
    expect(errors.map((e) => e.code)).toEqual([20104, 31401]);
    expect(errors[1]!.message).toMatch(/Microphone access was denied/);
    client.destroy();
  });

  it('does not fetch a token when Twilio is rate-limiting (31206), and says so', async () => {
    const { client, device, events, fetchToken } = setup();
    await client.register();
    device().fire('error', { code: 31206, message: 'RateExceededError (31206): Rate exceeded authorized limit.' });
    device().fire('error', { code: 31206, message: 'RateExceededError (31206): Rate exceeded authorized limit.' });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(fetchToken).toHaveBeenCalledTimes(1); // the first token only
    const error = events.find((e) => e[0] === 'error')![1] as { code: number; message: string };
    expect(error.code).toBe(31206);
    expect(error.message).toMatch(/rate/i);
    client.destroy();
  });

  it('names every Voice SDK 2.x error it handles as the SDK does', () => {
    // 31201 is AuthorizationError (and the SDK reports a signalling 31201 as 20151
    // AuthenticationFailed): a configuration problem, not the microphone.
    for (const code of [31201, 20151]) {
      const { message } = describeSdkError({ code, message: 'x' });
      expect(message).not.toMatch(/microphone/i);
      expect(message).toMatch(/administrator/i);
    }
    // 31208 does not exist in SDK 2.x: no made-up meaning, the SDK's own words and the code.
    expect(describeSdkError({ code: 31208, description: 'Something' }).message).toBe('Something (31208)');
    expect(describeSdkError({ code: 31401 }).message).toMatch(/Microphone access was denied/);
    expect(describeSdkError({ code: 31402 }).message).toMatch(/No microphone could be opened/);
    expect(describeSdkError({ code: 31205 }).message).toMatch(/token expired/);
  });

  it('offers incoming calls and follows accept, mute and disconnect', async () => {
    const { client, device, events } = setup();
    await client.register();
    const call = new FakeCall({ CallSid: 'CA1', From: '+15551230001', To: 'client:ada' });
    device().fire('incoming', call);
    expect(events).toContainEqual([
      'incoming',
      { callSid: 'CA1', from: '+15551230001', to: 'ada', parameters: { call_id: 'c-1' } },
    ]);
    await client.accept('CA1');
    expect(call.accept).toHaveBeenCalled();
    expect(events).toContainEqual(['accepted', 'CA1']);
    client.mute('CA1', true);
    expect(events).toContainEqual(['muted', 'CA1', true]);
    await client.hangup('CA1');
    expect(events).toContainEqual(['disconnected', 'CA1']);
    await expect(client.accept('CA1')).rejects.toThrow(/no longer ringing/);
    client.destroy();
  });

  it('routes calls to the chosen speaker, and opens the chosen microphone only for a call (device.audio)', async () => {
    const { client, device } = setup();
    await client.setAudioDevices({ inputId: 'mic-2', outputId: 'spk-2' });
    await client.register();
    const audio = {
      incoming: () => false,
      isOutputSelectionSupported: true,
      setInputDevice: vi.fn(async () => {}),
      unsetInputDevice: vi.fn(async () => {}),
      speakerDevices: { set: vi.fn(async () => {}) },
      ringtoneDevices: { set: vi.fn(async () => {}) },
    };
    (device() as unknown as { audio: typeof audio }).audio = audio;
    await client.setAudioDevices({ inputId: 'mic-2', outputId: 'spk-2' });
    expect(audio.speakerDevices.set).toHaveBeenCalledWith('spk-2');
    expect(audio.ringtoneDevices.set).toHaveBeenCalledWith('spk-2');
    expect(audio.setInputDevice).not.toHaveBeenCalled(); // not held open between calls

    const call = new FakeCall({ CallSid: 'CA1', From: '+15551230001', To: 'client:ada' });
    device().fire('incoming', call);
    await client.accept('CA1');
    expect(audio.setInputDevice).toHaveBeenCalledWith('mic-2');
    expect(audio.setInputDevice.mock.invocationCallOrder[0]!).toBeLessThan(call.accept.mock.invocationCallOrder[0]!);
    await client.hangup('CA1');
    expect(audio.unsetInputDevice).toHaveBeenCalled();

    // Back to the defaults; a browser without setSinkId leaves the output alone.
    await client.setAudioDevices({ inputId: null, outputId: null });
    expect(audio.speakerDevices.set).toHaveBeenLastCalledWith('default');
    audio.isOutputSelectionSupported = false;
    audio.speakerDevices.set.mockClear();
    await client.setAudioDevices({ inputId: null, outputId: 'spk-3' });
    expect(audio.speakerDevices.set).not.toHaveBeenCalled();
    client.destroy();
  });

  it('offers the next call when its invite arrives before the last call is over', async () => {
    const { client, device, events } = setup();
    await client.register();
    const first = new FakeCall({ CallSid: 'CA1', From: '+15551230001', To: 'client:ada' });
    device().invite(first);
    await client.accept('CA1');
    // The backend rings this agent again just after the call ended; the SDK has not seen the end yet.
    const next = new FakeCall({ CallSid: 'CA2', From: '+15551230002', To: 'client:ada' });
    device().invite(next);
    expect(events).toContainEqual(['incoming', expect.objectContaining({ callSid: 'CA2' })]);
    first.fire('disconnect', first);
    await client.accept('CA2');
    expect(next.accept).toHaveBeenCalled();
    client.destroy();
  });

  it('stops ringing when the call is answered in another tab (cancel)', async () => {
    const { client, device, events } = setup();
    await client.register();
    const call = new FakeCall({ CallSid: 'CA9', From: '+1555', To: 'client:ada' });
    device().fire('incoming', call);
    call.fire('cancel');
    expect(events).toContainEqual(['cancelled', 'CA9']);
    await expect(client.accept('CA9')).rejects.toThrow();
    client.destroy();
  });

  it('rejects a ringing call', async () => {
    const { client, device } = setup();
    await client.register();
    const call = new FakeCall({ CallSid: 'CA2', From: '+1555', To: 'client:ada' });
    device().fire('incoming', call);
    await client.reject('CA2');
    expect(call.reject).toHaveBeenCalled();
    client.destroy();
  });

  it('does not register a Device the SDK is already re-registering after a reconnect; waits for it', async () => {
    const { client, device, events } = setup();
    await client.register();
    device().lose();
    expect(client.state).toBe('unregistered');
    device().reconnect(); // the SDK's own re-registration once the WebSocket is back
    const registering = client.register(); // the phone's retry meanwhile
    await vi.advanceTimersByTimeAsync(0);
    expect(device().register).toHaveBeenCalledTimes(1); // the first registration only
    device().ready();
    await expect(registering).resolves.toBeUndefined();
    expect(client.state).toBe('registered');
    // Already registered again: nothing to do.
    await client.register();
    expect(device().register).toHaveBeenCalledTimes(1);
    expect(events.filter((e) => e[0] === 'error').map((e) => (e[1] as { code: unknown }).code)).toEqual(['connection_lost']);
    client.destroy();
  });

  it('says so when the connection to Twilio drops on its own, not when we unregister', async () => {
    const { client, device, events } = setup();
    await client.register();
    await client.unregister();
    await client.register();
    expect(events.some((e) => e[0] === 'error')).toBe(false);
    device().lose();
    const error = events.find((e) => e[0] === 'error')![1] as { code: string; message: string };
    expect(error).toMatchObject({ code: 'connection_lost' });
    expect(error.message).toMatch(/lost its connection/);
    // The phone's retry registers it again.
    await client.register();
    expect(client.state).toBe('registered');
    client.destroy();
  });

  it('gives up on a registration that never settles, and starts over with a new Device', async () => {
    const { client, devices, events } = setup();
    await client.register();
    devices[0]!.lose();
    devices[0]!.register.mockImplementationOnce(() => new Promise<void>(() => {})); // stuck
    const stuck = client.register();
    const outcome = expect(stuck).rejects.toThrow(/did not finish connecting/);
    await vi.advanceTimersByTimeAsync(20_000);
    await outcome;
    expect(client.state).toBe('error');
    expect(events.some((e) => e[0] === 'error' && (e[1] as { code: string }).code === 'register_timeout')).toBe(true);
    expect(devices[0]!.destroy).toHaveBeenCalled();
    await client.register();
    expect(devices).toHaveLength(2);
    expect(client.state).toBe('registered');
    // The old Device's late events change nothing.
    devices[0]!.lose();
    expect(client.state).toBe('registered');
    client.destroy();
  });

  it('watches the SDK\'s own re-registration too: one that never ends is reported and the Device replaced', async () => {
    const { client, devices, events } = setup();
    const states: string[] = [];
    client.on('state', (state) => states.push(state));
    await client.register();
    devices[0]!.lose();
    devices[0]!.reconnect(); // and then nothing
    await vi.advanceTimersByTimeAsync(20_000);
    expect(client.state).toBe('error');
    expect(states.slice(-1)).toEqual(['error']);
    expect(events.some((e) => e[0] === 'error' && (e[1] as { code: string }).code === 'register_timeout')).toBe(true);
    expect(devices[0]!.destroy).toHaveBeenCalled();
    await client.register();
    expect(devices).toHaveLength(2);
    expect(client.state).toBe('registered');
    client.destroy();
  });

  it('keeps the Device of a call in progress when its registration is stuck', async () => {
    const { client, devices } = setup();
    await client.register();
    const call = new FakeCall({ CallSid: 'CA1', From: '+1555', To: 'client:ada' });
    devices[0]!.invite(call);
    await client.accept('CA1');
    devices[0]!.lose();
    devices[0]!.register.mockImplementationOnce(() => new Promise<void>(() => {}));
    const stuck = client.register();
    const outcome = expect(stuck).rejects.toThrow(/did not finish connecting/);
    await vi.advanceTimersByTimeAsync(20_000);
    await outcome;
    expect(devices[0]!.destroy).not.toHaveBeenCalled();
    client.destroy();
  });

  // PEER-BUGS row 15 (twilio-voice.js #59): SDK 2.x Devices register with `register()`; the 1.x
  // `setup()` does not exist, and an incoming invite must reach us once registered.
  it('registers a 2.x Device with register(), never setup(), and an invite fires incoming', async () => {
    const { client, device, events } = setup();
    await client.register();
    expect(device().register).toHaveBeenCalledTimes(1);
    expect('setup' in device()).toBe(false);
    expect(client.state).toBe('registered');
    device().invite(new FakeCall({ CallSid: 'CA15', From: '+15551230015', To: 'client:ada' }));
    expect(events).toContainEqual(['incoming', expect.objectContaining({ callSid: 'CA15', to: 'ada' })]);
    client.destroy();
  });

  // PEER-BUGS row 16 (twilio-voice.js #93): `tokenWillExpire` fires once per Device; the token it
  // brought must itself be renewed before it expires without the event firing again.
  it('renews the token after tokenWillExpire fired once, without the event firing again', async () => {
    const { client, device, fetchToken } = setup();
    await client.register();
    device().fire('tokenWillExpire', device());
    await vi.advanceTimersByTimeAsync(0);
    expect(fetchToken).toHaveBeenCalledTimes(2);
    expect(device().updateToken).toHaveBeenLastCalledWith('tok2');
    // No second tokenWillExpire: our own timer renews tok2 before its hour is up.
    await vi.advanceTimersByTimeAsync(3_600_000);
    expect(fetchToken.mock.calls.length).toBeGreaterThanOrEqual(3);
    expect(device().updateToken).toHaveBeenCalledWith('tok3');
    client.destroy();
  });

  // PEER-BUGS row 18 (twilio-voice.js #208): two invites ring at once; accepting one must accept
  // that call (accept, not disconnect), and leave the other one ringing until it is called off.
  it('with two incoming calls, accepting one connects that one and leaves the other', async () => {
    const { client, device, events } = setup();
    await client.register();
    const first = new FakeCall({ CallSid: 'CA1', From: '+15551230001', To: 'client:ada' });
    const second = new FakeCall({ CallSid: 'CA2', From: '+15551230002', To: 'client:ada' });
    device().invite(first);
    device().invite(second);
    await client.accept('CA2');
    expect(second.accept).toHaveBeenCalledTimes(1);
    expect(first.accept).not.toHaveBeenCalled();
    expect(events).toContainEqual(['accepted', 'CA2']);
    expect(events.filter((e) => e[0] === 'disconnected')).toEqual([]);
    // The other call is still ours to act on until Twilio calls it off.
    first.fire('cancel');
    expect(events).toContainEqual(['cancelled', 'CA1']);
    expect(events.filter((e) => e[0] === 'disconnected')).toEqual([]);
    await client.hangup('CA2');
    expect(events).toContainEqual(['disconnected', 'CA2']);
    client.destroy();
  });

  // PEER-BUGS row 19 (twilio-voice.js #118, #299): a page reload. The Device asks before the tab
  // is closed during a call; once the page is back a fresh Device registers, and the call the
  // server offers again (the backend rings the same agent first) rings and can be answered.
  it('after a reload a fresh Device registers and the call offered again rings and connects', async () => {
    const before = setup();
    await before.client.register();
    expect(before.device().options.closeProtection).toBeTruthy();
    before.device().invite(new FakeCall({ CallSid: 'CA1', From: '+15551230001', To: 'client:ada' }));
    before.client.destroy(); // the page goes away mid-ring
    expect(before.device().destroy).toHaveBeenCalled();

    const after = setup();
    await after.client.register();
    expect(after.client.state).toBe('registered');
    const again = new FakeCall({ CallSid: 'CA2', From: '+15551230001', To: 'client:ada' });
    after.device().invite(again);
    expect(after.events).toContainEqual(['incoming', expect.objectContaining({ callSid: 'CA2' })]);
    await after.client.accept('CA2');
    expect(after.events).toContainEqual(['accepted', 'CA2']);
    after.client.destroy();
  });

  // PEER-BUGS row 21 (twilio-client.js #227): after WebSocket trouble the Device must not be left
  // half alive: a transport close is reported, and the next registration recovers it.
  it('recovers a Device whose signalling connection closed: reported, then registered again', async () => {
    const { client, device, devices, events } = setup();
    await client.register();
    device().lose();
    expect(client.state).toBe('unregistered');
    expect(events).toContainEqual(['error', expect.objectContaining({ code: 'connection_lost' })]);
    await client.register();
    expect(client.state).toBe('registered');
    expect(devices).toHaveLength(1);
    expect(device().register).toHaveBeenCalledTimes(2);
    client.destroy();
  });

  it('reports a failed registration (no token) as an error state', async () => {
    const client = new TwilioVoiceClient({
      fetchToken: async () => {
        throw new Error('Voice is not configured');
      },
      createDevice: async () => () => {
        throw new Error('unreachable');
      },
    });
    const errors: string[] = [];
    client.on('error', (e) => errors.push(e.message));
    await expect(client.register()).rejects.toThrow('Voice is not configured');
    expect(client.state).toBe('error');
    expect(errors).toEqual(['Voice is not configured']);
  });
});
