import { Emitter } from './emitter';
import { TokenRefresher, type IssuedToken } from './token-refresh';
import type { VoiceClient, VoiceClientEvents, VoiceClientState, VoiceError } from './types';

/**
 * The live-mode `VoiceClient` on `@twilio/voice-sdk` 2.x.
 *
 * - One `Device` per page, created with a token from `POST /api/voice/token`; refreshed on
 *   `tokenWillExpire` (10 s before expiry), on our own earlier timer, and after a token error.
 * - `allowIncomingWhileBusy: true`: with callers queued, the backend rings an agent again
 *   milliseconds after their call ended, and that invite may reach the Device before the end of
 *   the last call does. Twilio's default (false) drops it silently; we offer it, and the call
 *   state machine holds it until the call in hand is over (no ringing over a call).
 * - The SDK's own ringtone is off; `Phone` plays one ringer for both modes.
 * - A call answered in another tab (same identity) emits `cancel` here, so every tab stops ringing.
 * - `closeProtection`: the browser asks before the tab is closed during a call.
 * - Registration: `Device.register()` is only called on an unregistered Device (the SDK throws
 *   otherwise); while the SDK re-registers by itself after its WebSocket came back we wait for that
 *   one. A registration that does not settle within `registerTimeoutMs` fails (the phone retries
 *   with backoff) and, unless a call is on it, the stuck Device is replaced by a new one. A Device
 *   that drops its registration on its own (the signalling connection closed) is reported as such.
 *
 * The SDK is loaded on first `register()` (a separate chunk), so demo mode never downloads it.
 * The types below are the small part of the SDK we use, so tests can pass a fake.
 */

export interface SdkCall {
  parameters: Record<string, string>;
  customParameters: Map<string, string>;
  accept(): void;
  reject(): void;
  disconnect(): void;
  mute(shouldMute?: boolean): void;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the SDK's listeners take varied arguments
  on(event: string, listener: (...args: any[]) => void): unknown;
}

export interface SdkError {
  code?: number;
  message?: string;
  description?: string;
  explanation?: string;
}

/** `device.audio` (the SDK's AudioHelper), as far as it is used here. */
export interface SdkAudioHelper {
  incoming(enable?: boolean): boolean;
  /** False when the browser has no `setSinkId`: output selection is not possible. */
  isOutputSelectionSupported?: boolean;
  /** Opens this microphone for current and future calls (and holds it until unset). */
  setInputDevice?(deviceId: string): Promise<void>;
  unsetInputDevice?(): Promise<void>;
  speakerDevices?: { set(deviceIdOrIds: string | string[]): Promise<void> };
  ringtoneDevices?: { set(deviceIdOrIds: string | string[]): Promise<void> };
}

export interface SdkDevice {
  readonly state: string;
  register(): Promise<void>;
  unregister(): Promise<void>;
  updateToken(token: string): void;
  destroy(): void;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the SDK's listeners take varied arguments
  on(event: string, listener: (...args: any[]) => void): unknown;
  audio?: SdkAudioHelper | null;
}

export interface SdkDeviceOptions {
  allowIncomingWhileBusy: boolean;
  closeProtection: boolean | string;
  codecPreferences: string[];
  logLevel: string;
  tokenRefreshMs: number;
  appName: string;
}

export type DeviceFactory = (token: string, options: SdkDeviceOptions) => SdkDevice;

export interface TwilioVoiceClientOptions {
  fetchToken: () => Promise<IssuedToken>;
  /** Creates the SDK's `Device`; defaults to loading `@twilio/voice-sdk` on demand. */
  createDevice?: () => Promise<DeviceFactory>;
  /**
   * How long a registration may take before it is given up (and the Device replaced when no call
   * is on it); the phone then retries with backoff.
   */
  registerTimeoutMs?: number;
  now?: () => number;
}

const DEFAULT_REGISTER_TIMEOUT_MS = 20_000;

/**
 * Twilio error codes that mean "get a new token": the token in hand was refused as invalid or
 * expired (20101 AccessTokenInvalid, 20104 AccessTokenExpired, and the signalling codes the SDK
 * reports as those: 31204 InvalidJWTTokenError, 31205 JWTTokenExpiredError). Not 31206
 * RateExceededError: a new token does not help, and fetching one per error hammers the token
 * endpoint while Twilio is rate-limiting us. Not the configuration errors (20151, 31201–31203,
 * 31207) either: every new token would be refused the same way.
 */
const TOKEN_ERRORS = new Set([20101, 20104, 31204, 31205]);

const ASK_ADMIN = 'Ask an administrator to check the Twilio Voice settings.';

/**
 * Agent-readable messages for the codes of the SDK's generated error list
 * (`@twilio/voice-sdk` 2.x `errors/generated`) that an agent can act on or should understand.
 * Any other code shows the SDK's own explanation and the code.
 */
const FRIENDLY: Record<number, string> = {
  // AuthorizationErrors
  20101: 'The phone token was not accepted. Reconnecting…', // AccessTokenInvalid
  20104: 'The phone token expired. Reconnecting…', // AccessTokenExpired
  20151: `Twilio could not authenticate the phone. ${ASK_ADMIN}`, // AuthenticationFailed
  31201: `Twilio refused to authorize the phone. ${ASK_ADMIN}`, // AuthorizationError
  31203: `Twilio found no valid account for the phone. ${ASK_ADMIN}`, // NoValidAccountError
  31204: 'The phone token was not accepted. Reconnecting…', // InvalidJWTTokenError
  31205: 'The phone token expired. Reconnecting…', // JWTTokenExpiredError
  31206: 'Twilio is limiting this phone’s requests (rate exceeded). It reconnects by itself shortly.', // RateExceededError
  31207: `Twilio refused the phone token: its lifetime is too long. ${ASK_ADMIN}`, // JWTTokenExpirationTooLongError
  // SignatureValidationErrors
  31202: `Twilio refused the phone token’s signature (API key or secret). ${ASK_ADMIN}`, // AccessTokenSignatureValidationFailed
  // GeneralErrors
  31005: 'Lost the connection to the phone service. Check your network.', // ConnectionError
  31008: 'The call ended before it could be answered.', // CallCancelledError
  31009: 'Cannot reach the phone service. Check your network.', // TransportError
  // UserMediaErrors
  31401: 'Microphone access was denied. Allow the microphone for this site to take calls.', // PermissionDeniedError
  31402: 'No microphone could be opened. Check that one is connected.', // AcquisitionFailedError
  // SignalingErrors
  53000: 'Lost the connection to the phone service. Reconnecting…', // ConnectionError
  53001: 'Lost the connection to the phone service. Reconnecting…', // ConnectionDisconnected
  // MediaErrors
  53405: 'The call audio could not connect. Check your network or firewall.', // ConnectionError
};

export function describeSdkError(error: SdkError | undefined | null): VoiceError {
  const code = typeof error?.code === 'number' ? error.code : null;
  const known = code !== null ? FRIENDLY[code] : undefined;
  const message =
    known ?? error?.explanation ?? error?.description ?? error?.message ?? 'The phone reported an error.';
  return { code, message: code && !known ? `${message} (${code})` : message };
}

async function loadTwilioDevice(): Promise<DeviceFactory> {
  const { Device } = await import('@twilio/voice-sdk');
  return (token, options) =>
    new Device(token, options as unknown as ConstructorParameters<typeof Device>[1]) as unknown as SdkDevice;
}

export class TwilioVoiceClient implements VoiceClient {
  readonly kind = 'live' as const;
  private readonly emitter = new Emitter<VoiceClientEvents>();
  private readonly calls = new Map<string, SdkCall>();
  private readonly refresher: TokenRefresher;
  private device: SdkDevice | null = null;
  private audioPreferences: { inputId: string | null; outputId: string | null } = { inputId: null, outputId: null };
  private stateValue: VoiceClientState = 'unregistered';
  private destroyed = false;
  private readonly registerTimeoutMs: number;
  /** The registration under way (single-flight). */
  private registering: Promise<void> | null = null;
  /** We asked the Device to unregister: its `unregistered` is not a lost connection. */
  private unregistering = false;
  /** Who waits for the Device's own (re-)registration to end. */
  private readonly registrationWaiters = new Set<(registered: boolean) => void>();

  constructor(private readonly options: TwilioVoiceClientOptions) {
    this.registerTimeoutMs = options.registerTimeoutMs ?? DEFAULT_REGISTER_TIMEOUT_MS;
    this.refresher = new TokenRefresher({
      fetchToken: options.fetchToken,
      apply: (token) => this.device?.updateToken(token.token),
      onError: (error, attempt) => {
        if (attempt === 1 || attempt % 5 === 0) {
          this.emitter.emit('error', {
            code: 'token_refresh_failed',
            message: `Could not renew the phone token: ${messageOf(error)}. Retrying…`,
          });
        }
      },
      ...(options.now ? { now: options.now } : {}),
    });
  }

  get state(): VoiceClientState {
    return this.stateValue;
  }

  on<E extends keyof VoiceClientEvents>(event: E, listener: VoiceClientEvents[E]): () => void {
    return this.emitter.on(event, listener);
  }

  register(): Promise<void> {
    if (this.destroyed) return Promise.reject(new Error('The phone was shut down.'));
    this.registering ??= this.doRegister().finally(() => {
      this.registering = null;
    });
    return this.registering;
  }

  private async doRegister(): Promise<void> {
    this.setState('registering');
    try {
      if (!this.device) {
        const [token, factory] = await Promise.all([
          this.options.fetchToken(),
          (this.options.createDevice ?? loadTwilioDevice)(),
        ]);
        if (this.destroyed) throw new Error('The phone was shut down.');
        this.device = this.createDevice(factory, token);
        this.refresher.adopt(token);
      } else if (this.device.state === 'unregistered') {
        await this.refresher.refresh();
      }
      const device = this.device;
      if (!device || this.destroyed) throw new Error('The phone was shut down.');
      await this.withWatchdog(device, this.registration(device));
      this.setState('registered');
    } catch (err) {
      const error: VoiceError = isSdkError(err)
        ? describeSdkError(err)
        : { code: err instanceof RegisterTimeout ? 'register_timeout' : 'register_failed', message: messageOf(err) };
      // The reason first, so whoever reacts to the state change can show it.
      this.emitter.emit('error', error);
      this.setState('error');
      throw new Error(error.message, { cause: err });
    }
  }

  /** Register `device`, or wait for the registration the SDK already has under way. */
  private registration(device: SdkDevice): Promise<void> {
    if (device.state === 'registered') return Promise.resolve();
    if (device.state === 'registering') {
      return new Promise((resolve, reject) => {
        const waiter = (registered: boolean) => {
          this.registrationWaiters.delete(waiter);
          if (registered) resolve();
          else reject(new Error('The phone could not register with Twilio.'));
        };
        this.registrationWaiters.add(waiter);
      });
    }
    return device.register();
  }

  /** `work`, or a `RegisterTimeout` after `registerTimeoutMs`; a stuck Device without a call is replaced. */
  private withWatchdog(device: SdkDevice, work: Promise<void>): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        if (this.device === device && this.calls.size === 0) {
          // Start over with a new Device (and a new signalling connection) on the next attempt.
          this.device = null;
          this.registrationWaiters.clear();
          try {
            device.destroy();
          } catch {
            /* it is being dropped anyway */
          }
        }
        reject(new RegisterTimeout(this.registerTimeoutMs));
      }, this.registerTimeoutMs);
      work.then(
        () => {
          clearTimeout(timer);
          resolve();
        },
        (err: unknown) => {
          clearTimeout(timer);
          reject(err);
        },
      );
    });
  }

  async unregister(): Promise<void> {
    if (!this.device) {
      this.setState('unregistered');
      return;
    }
    if (this.device.state === 'registered') {
      this.unregistering = true;
      try {
        await this.device.unregister();
      } finally {
        this.unregistering = false;
      }
    }
    this.setState('unregistered');
  }

  async accept(callSid: string): Promise<void> {
    const call = this.call(callSid);
    // The chosen microphone is opened for the call only (setInputDevice holds it until unset);
    // access was asked for when the agent went available, so no prompt appears now.
    const audio = this.device?.audio;
    if (this.audioPreferences.inputId && audio?.setInputDevice) {
      await audio.setInputDevice(this.audioPreferences.inputId).catch(() => {
        /* gone since it was picked: the SDK falls back to the default microphone */
      });
    }
    call.accept();
  }

  async setAudioDevices(preferences: { inputId: string | null; outputId: string | null }): Promise<void> {
    this.audioPreferences = preferences;
    const audio = this.device?.audio;
    if (audio) await applyOutput(audio, preferences.outputId);
  }

  async reject(callSid: string): Promise<void> {
    const call = this.call(callSid);
    this.calls.delete(callSid);
    call.reject();
  }

  async hangup(callSid: string): Promise<void> {
    this.call(callSid).disconnect();
  }

  mute(callSid: string, muted: boolean): void {
    this.calls.get(callSid)?.mute(muted);
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.refresher.stop();
    this.device?.destroy();
    this.device = null;
    this.calls.clear();
    this.setState('unregistered');
    this.emitter.clear();
  }

  private call(callSid: string): SdkCall {
    const call = this.calls.get(callSid);
    if (!call) throw new Error('That call is no longer ringing here.');
    return call;
  }

  private createDevice(factory: DeviceFactory, token: IssuedToken): SdkDevice {
    const device = factory(token.token, {
      allowIncomingWhileBusy: true,
      closeProtection: 'A call is in progress. Leaving this page will hang it up.',
      codecPreferences: ['opus', 'pcmu'],
      logLevel: 'warn',
      tokenRefreshMs: 10_000,
      appName: 'warm-transfer',
    });
    // One ringtone for both modes: Phone's WebAudio ringer.
    try {
      device.audio?.incoming(false);
    } catch {
      /* older SDKs: keep Twilio's ringtone */
    }
    if (device.audio) void applyOutput(device.audio, this.audioPreferences.outputId);
    // Events of a Device we have dropped (stuck registration) change nothing.
    const current = () => !this.destroyed && this.device === device;
    const settled = (registered: boolean) => {
      for (const waiter of [...this.registrationWaiters]) waiter(registered);
    };
    device.on('registering', () => {
      if (!current()) return;
      this.setState('registering');
      // The SDK re-registering by itself (its WebSocket came back): watch it like our own.
      if (!this.registering) this.register().catch(() => {});
    });
    device.on('registered', () => {
      if (!current()) return;
      this.setState('registered');
      settled(true);
    });
    device.on('unregistered', () => {
      if (!current()) return;
      if (!this.unregistering && this.stateValue === 'registered') {
        // The SDK's signalling connection closed: it re-registers by itself once it is back, and
        // the phone retries meanwhile. Calls cannot ring here until then; say so.
        this.emitter.emit('error', {
          code: 'connection_lost',
          message: 'The phone lost its connection to Twilio and is reconnecting. Calls cannot ring here until it is back.',
        });
      }
      this.setState('unregistered');
      settled(false);
    });
    device.on('tokenWillExpire', () => {
      if (current()) void this.refresher.refresh(true);
    });
    device.on('error', (error: SdkError, call?: SdkCall) => {
      if (!current()) return;
      if (typeof error?.code === 'number' && TOKEN_ERRORS.has(error.code)) void this.refresher.refresh(true);
      const sid = call?.parameters?.CallSid ?? null;
      this.emitter.emit('error', { ...describeSdkError(error), callSid: sid });
    });
    device.on('incoming', (call: SdkCall) => {
      if (current()) this.onIncoming(call);
    });
    return device;
  }

  private onIncoming(call: SdkCall): void {
    const callSid = call.parameters.CallSid ?? '';
    if (!callSid) return;
    this.calls.set(callSid, call);
    const forget = () => this.calls.delete(callSid);
    call.on('accept', () => this.emitter.emit('accepted', callSid));
    call.on('cancel', () => {
      forget();
      this.emitter.emit('cancelled', callSid);
    });
    call.on('reject', forget);
    call.on('disconnect', () => {
      forget();
      if (this.calls.size === 0) void this.device?.audio?.unsetInputDevice?.().catch(() => {});
      this.emitter.emit('disconnected', callSid);
    });
    call.on('mute', (muted: boolean) => this.emitter.emit('muted', callSid, muted));
    call.on('error', (error: SdkError) => this.emitter.emit('error', { ...describeSdkError(error), callSid }));
    const parameters: Record<string, string> = {};
    call.customParameters?.forEach((value, key) => (parameters[key] = value));
    this.emitter.emit('incoming', {
      callSid,
      from: stripClient(call.parameters.From ?? ''),
      to: stripClient(call.parameters.To ?? ''),
      parameters,
    });
  }

  private setState(state: VoiceClientState): void {
    if (this.stateValue === state) return;
    this.stateValue = state;
    this.emitter.emit('state', state);
  }
}

class RegisterTimeout extends Error {
  constructor(ms: number) {
    super(`The phone did not finish connecting to Twilio within ${Math.round(ms / 1000)} s. Retrying…`);
  }
}

function stripClient(address: string): string {
  return address.startsWith('client:') ? address.slice('client:'.length) : address;
}

function isSdkError(err: unknown): err is SdkError {
  return typeof err === 'object' && err !== null && typeof (err as SdkError).code === 'number';
}

function messageOf(err: unknown): string {
  if (err instanceof Error && err.message) return err.message;
  if (typeof err === 'object' && err && 'message' in err && typeof err.message === 'string') return err.message;
  return 'unknown error';
}

/** Call audio (and the SDK's own sounds) through the chosen speaker, where the browser allows it. */
async function applyOutput(audio: SdkAudioHelper, outputId: string | null): Promise<void> {
  if (!audio.isOutputSelectionSupported) return;
  const id = outputId ?? 'default';
  await Promise.all([audio.speakerDevices?.set(id), audio.ringtoneDevices?.set(id)]).catch(() => {
    /* the device is gone: the SDK keeps the default */
  });
}
