import { backoffDelay, DEFAULT_BACKOFF, type BackoffOptions } from '@/live/backoff';
import { IDLE, isBusy, step, type CallInfo, type CallState, type EndReason, type PhoneEvent } from './call-machine';
import { createSilentRinger, type Ringer } from './ringer';
import type { AudioPreferences } from './audio-devices';
import type { VoiceClient, VoiceClientState, VoiceError } from './types';

export interface LastCall {
  from: string;
  reason: EndReason;
  at: number;
  connectedMs: number | null;
}

export interface PhoneSnapshot {
  mode: 'demo' | 'live';
  call: CallState;
  device: VoiceClientState;
  /** The agent's presence says the phone should be registered. */
  wanted: boolean;
  /** The last browser-phone problem, until dismissed or the phone registers again. */
  error: VoiceError | null;
  /** The next automatic registration attempt (epoch ms), after a failure. */
  retryAt: number | null;
  ringtoneBlocked: boolean;
  lastCall: LastCall | null;
}

export interface PhoneOptions {
  ringer?: Ringer;
  now?: () => number;
  /** How long an ended call stays on screen before the panel goes back to idle. */
  endedLingerMs?: number;
  /** Registration retries after a failure. */
  backoff?: BackoffOptions;
  random?: () => number;
}

/**
 * The agent's browser phone: a `VoiceClient` plus the call state machine, the ringtone and the
 * rule "registered exactly while the agent should receive calls". A small external store, read by
 * React with `useSyncExternalStore`; one per signed-in page.
 */
export class Phone {
  private snapshot: PhoneSnapshot;
  private readonly listeners = new Set<() => void>();
  private readonly unsubscribers: Array<() => void> = [];
  private readonly ringer: Ringer;
  private readonly now: () => number;
  private readonly endedLingerMs: number;
  private readonly backoff: BackoffOptions;
  private readonly random: () => number;
  private lingerTimer: ReturnType<typeof setTimeout> | null = null;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private reconciling = false;
  private failures = 0;
  private destroyed = false;
  /** Legs this page asked for (a supervisor's listening leg), by call SID: answered as they ring. */
  private readonly expected = new Set<string>();

  constructor(
    private readonly voice: VoiceClient,
    options: PhoneOptions = {},
  ) {
    this.ringer = options.ringer ?? createSilentRinger();
    this.now = options.now ?? Date.now;
    this.endedLingerMs = options.endedLingerMs ?? 6_000;
    this.backoff = options.backoff ?? { ...DEFAULT_BACKOFF, maxMs: 20_000 };
    this.random = options.random ?? Math.random;
    this.snapshot = {
      mode: voice.kind,
      call: IDLE,
      device: voice.state,
      wanted: false,
      error: null,
      retryAt: null,
      ringtoneBlocked: false,
      lastCall: null,
    };
    this.unsubscribers.push(
      voice.on('state', (state) => {
        this.patch({ device: state, ...(state === 'registered' ? { error: null, retryAt: null } : {}) });
        if (state === 'registered') this.failures = 0;
        // The SDK may drop its registration by itself (network), or fail one it started itself
        // (a re-registration that never ended); get it back. A failure of our own `register()`
        // is retried by `reconcile`.
        if ((state === 'unregistered' || state === 'error') && this.snapshot.wanted && !this.reconciling) this.scheduleRetry();
      }),
      voice.on('error', (error) => this.patch({ error })),
      voice.on('incoming', (call) => this.dispatch({ type: 'incoming', call, at: this.now() })),
      voice.on('cancelled', (callSid) => this.dispatch({ type: 'cancelled', callSid, at: this.now() })),
      voice.on('accepted', (callSid) => this.dispatch({ type: 'accepted', callSid, at: this.now() })),
      voice.on('disconnected', (callSid) => this.dispatch({ type: 'disconnected', callSid, at: this.now() })),
      voice.on('muted', (callSid, muted) => this.dispatch({ type: 'muted', callSid, muted })),
      this.ringer.onChange(() => this.patch({ ringtoneBlocked: this.ringer.blocked })),
    );
  }

  getSnapshot = (): PhoneSnapshot => this.snapshot;

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  /** Follow the agent's presence: registered while available (or on a call), not otherwise. */
  /** Use this microphone and speaker for calls (live mode; the simulator has no audio). */
  async setAudioDevices(preferences: AudioPreferences): Promise<void> {
    await this.voice.setAudioDevices?.(preferences);
  }

  setWanted(wanted: boolean): void {
    if (this.destroyed || this.snapshot.wanted === wanted) return;
    this.patch({ wanted });
    if (!wanted) this.clearRetry();
    void this.reconcile();
  }

  /**
   * Register now and wait for the outcome: resolves `null` once registered, or the reason it
   * could not (error, or no answer within `timeoutMs`). Leaves `wanted` on; the caller resets it
   * when the agent does not go available after all.
   */
  ensureRegistered(timeoutMs = 15_000): Promise<string | null> {
    if (this.voice.state === 'registered') {
      this.setWanted(true);
      return Promise.resolve(null);
    }
    // A fresh attempt now: forget the last failure and any scheduled retry. From here on, an
    // error in the snapshot is this attempt's.
    this.clearRetry();
    this.failures = 0;
    if (this.snapshot.error) this.patch({ error: null });
    return new Promise((resolve) => {
      let settled = false;
      const finish = (value: string | null) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        unsubscribe();
        resolve(value);
      };
      const check = () => {
        if (this.destroyed) finish('The phone was shut down.');
        else if (this.snapshot.device === 'registered') finish(null);
        else if (this.snapshot.error) finish(this.snapshot.error.message);
      };
      const timer = setTimeout(() => finish('The phone did not connect in time. Try again.'), timeoutMs);
      const unsubscribe = this.subscribe(check);
      this.setWanted(true);
      void this.reconcile().then(check);
    });
  }

  /** "Retry now" after a registration failure. */
  retry(): void {
    this.clearRetry();
    this.failures = 0;
    void this.reconcile();
  }

  async accept(): Promise<void> {
    const call = this.snapshot.call;
    if (call.phase !== 'ringing' || call.answering) return;
    const callSid = call.call.callSid;
    this.dispatch({ type: 'answer' });
    try {
      await this.voice.accept(callSid);
    } catch (err) {
      this.dispatch({ type: 'answer_failed', callSid, error: messageOf(err, 'Could not answer the call.') });
    }
  }

  /**
   * A leg this page asked for (a supervisor listening to a call, told its call SID by the API):
   * answered as soon as it rings, without the ringing prompt or a second click.
   */
  expectCall(callSid: string): void {
    this.expected.add(callSid);
    this.acceptExpected();
  }

  /** Whether this leg is one the page asked for (kept out of the incoming-call prompt). */
  isExpected(callSid: string): boolean {
    return this.expected.has(callSid);
  }

  private acceptExpected(): void {
    const call = this.snapshot.call;
    if (call.phase === 'ringing' && !call.answering && this.expected.has(call.call.callSid)) void this.accept();
  }

  /** Whether `resume` can bring a still-up leg's audio back to this page. */
  get canResume(): boolean {
    return typeof this.voice.resume === 'function';
  }

  /** Take back the audio of a leg that stayed up while the page reloaded. */
  async resume(call: CallInfo): Promise<string | null> {
    if (!this.voice.resume) return 'This phone cannot reconnect to a call in progress.';
    if (this.snapshot.call.phase === 'ringing' || this.snapshot.call.phase === 'connected') return 'The phone is busy.';
    try {
      await this.voice.resume(call);
    } catch (err) {
      return messageOf(err, 'Could not reconnect the audio.');
    }
    this.dispatch({ type: 'resumed', call, at: this.now() });
    return null;
  }

  async reject(): Promise<void> {
    const call = this.snapshot.call;
    if (call.phase !== 'ringing') return;
    const callSid = call.call.callSid;
    this.dispatch({ type: 'decline', at: this.now() });
    try {
      await this.voice.reject(callSid);
    } catch (err) {
      // The call is gone from this browser either way; say why the server did not take it.
      this.patch({ error: { code: 'reject_failed', message: messageOf(err, 'Could not decline the call.'), callSid } });
    }
  }

  /** Hang up this browser's leg (the API's leave/hang-up are the call-level actions). */
  async hangup(): Promise<void> {
    const call = this.snapshot.call;
    if (call.phase !== 'connected' || call.hangingUp) return;
    const callSid = call.call.callSid;
    this.dispatch({ type: 'hangup' });
    try {
      await this.voice.hangup(callSid);
    } catch (err) {
      this.dispatch({ type: 'hangup_failed', callSid, error: messageOf(err, 'Could not hang up.') });
    }
  }

  setMuted(muted: boolean): void {
    const call = this.snapshot.call;
    if (call.phase !== 'connected') return;
    this.voice.mute(call.call.callSid, muted);
  }

  /** Back to idle from an ended call. */
  dismiss(): void {
    this.dispatch({ type: 'dismiss' });
  }

  dismissError(): void {
    this.patch({ error: null });
  }

  /** Call from a user gesture (any click or key press) so the ringtone may play. */
  unlockAudio(): void {
    this.ringer.unlock();
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.clearRetry();
    if (this.lingerTimer) clearTimeout(this.lingerTimer);
    this.ringer.stop();
    this.ringer.dispose();
    this.unsubscribers.forEach((u) => u());
    this.voice.destroy();
    this.listeners.clear();
  }

  private dispatch(event: PhoneEvent): void {
    if (this.destroyed) return;
    const before = this.snapshot.call;
    const { state: after, ended } = step(before, event);
    if (after === before) return;
    const patch: Partial<PhoneSnapshot> = { call: after };
    // The call in hand ended (the next one may already be ringing).
    if (ended) patch.lastCall = { from: ended.call.from, reason: ended.reason, at: ended.at, connectedMs: ended.connectedMs };
    this.patch(patch);

    if (after.phase === 'ringing' && !this.expected.has(after.call.callSid)) this.ringer.start();
    else this.ringer.stop();
    if (ended) this.expected.delete(ended.call.callSid);
    this.acceptExpected();

    if (this.lingerTimer) clearTimeout(this.lingerTimer);
    this.lingerTimer = null;
    if (after.phase === 'ended') {
      this.lingerTimer = setTimeout(() => this.dispatch({ type: 'dismiss' }), this.endedLingerMs);
    }
    // A call that ended may let the phone unregister (the agent went away meanwhile).
    if (isBusy(before) && !isBusy(after)) void this.reconcile();
  }

  /**
   * Drive the client towards `wanted`, one operation at a time; re-check after each (the agent may
   * have clicked again meanwhile). A failed registration is retried with backoff while wanted.
   */
  private async reconcile(): Promise<void> {
    if (this.reconciling || this.destroyed) return;
    this.reconciling = true;
    try {
      for (let guard = 0; guard < 4 && !this.destroyed; guard++) {
        const { wanted, call } = this.snapshot;
        const state = this.voice.state;
        if (wanted && (state === 'unregistered' || state === 'error')) {
          if (this.retryTimer) break; // a retry is scheduled
          try {
            await this.voice.register();
            this.failures = 0;
          } catch (err) {
            if (!this.snapshot.error) {
              this.patch({ error: { code: 'register_failed', message: messageOf(err, 'The phone could not connect.') } });
            }
            if (this.snapshot.wanted) this.scheduleRetry();
            break;
          }
        } else if (!wanted && (state === 'registered' || state === 'registering' || state === 'error') && !isBusy(call)) {
          try {
            await this.voice.unregister();
          } catch {
            break;
          }
        } else {
          break;
        }
      }
    } finally {
      this.reconciling = false;
    }
  }

  private scheduleRetry(): void {
    if (this.retryTimer || this.destroyed) return;
    const delay = backoffDelay(this.failures++, this.backoff, this.random);
    this.patch({ retryAt: this.now() + delay });
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.patch({ retryAt: null });
      void this.reconcile();
    }, delay);
  }

  private clearRetry(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    if (this.snapshot.retryAt !== null) this.patch({ retryAt: null });
  }

  private patch(patch: Partial<PhoneSnapshot>): void {
    this.snapshot = { ...this.snapshot, ...patch };
    for (const listener of [...this.listeners]) listener();
  }
}

function messageOf(err: unknown, fallback: string): string {
  if (err instanceof Error && err.message) return err.message;
  if (typeof err === 'object' && err && 'message' in err && typeof err.message === 'string') return err.message;
  return fallback;
}
