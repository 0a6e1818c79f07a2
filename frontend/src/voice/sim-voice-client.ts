import { settle, type ApiClient, type ApiProblem, type CallDetail, type DemoRinging } from '@/api';
import type { LiveEvents } from '@/live';
import { Emitter } from './emitter';
import type { IncomingCallInfo, VoiceClient, VoiceClientEvents, VoiceClientState } from './types';

/**
 * The demo-mode `VoiceClient`: the "browser phone" is the backend's Twilio simulator.
 *
 * - Registered = polling `GET /api/demo/ringing` (every `pollMs`, and at once on a live `call` or
 *   `agent` event) for legs ringing this agent's identity. A leg that disappears from the list
 *   without being answered here stopped ringing: answered in another tab, caller gone, timed out.
 * - accept / reject: `POST /api/demo/ringing/{sid}/accept|reject`; hang up: `POST
 *   /api/demo/calls/{sid}/hangup`.
 * - The end of an answered leg (the customer hung up, the agent left through the API, a transfer
 *   completed) is read from `GET /api/me/call` on live `call` events and every `legCheckMs`.
 */
export interface SimVoiceClientOptions {
  api: ApiClient;
  agentId: string;
  events?: LiveEvents | null;
  pollMs?: number;
  legCheckMs?: number;
  /**
   * A leg the server has not shown up yet is not declared gone this soon after it was answered
   * (the server may lag behind the simulator). Once seen up, its end is reported at once.
   */
  answerGraceMs?: number;
  now?: () => number;
}

const PENDING = new Set(['dialing', 'ringing', 'connected']);

export class SimVoiceClient implements VoiceClient {
  readonly kind = 'demo' as const;
  private readonly emitter = new Emitter<VoiceClientEvents>();
  /** Legs ringing here that we announced. */
  private readonly ringing = new Map<string, IncomingCallInfo>();
  /**
   * Legs answered here: when, and whether (in which call) the server has shown the leg up since.
   * The call is remembered because `GET /api/me/call` moves on to the agent's next call (rung
   * moments after the last one ended) while this leg's end may not have been seen yet.
   */
  private readonly answered = new Map<string, { at: number; seenUp: boolean; callId: string | null }>();
  /** Legs we accepted, rejected or saw end: never announce them again. */
  private readonly done = new Set<string>();
  private readonly pollMs: number;
  private readonly legCheckMs: number;
  private readonly answerGraceMs: number;
  private readonly now: () => number;
  private stateValue: VoiceClientState = 'unregistered';
  private pollTimer: ReturnType<typeof setTimeout> | null = null;
  private legTimer: ReturnType<typeof setTimeout> | null = null;
  private polling = false;
  private pollAgain = false;
  private checking = false;
  private checkAgain = false;
  private failures = 0;
  private destroyed = false;
  private readonly unsubscribers: Array<() => void> = [];

  constructor(private readonly options: SimVoiceClientOptions) {
    this.pollMs = options.pollMs ?? 1_000;
    this.legCheckMs = options.legCheckMs ?? 3_000;
    this.answerGraceMs = options.answerGraceMs ?? 5_000;
    this.now = options.now ?? Date.now;
    const events = options.events;
    if (events) {
      this.unsubscribers.push(
        events.on('call', () => {
          if (this.stateValue === 'registered') void this.poll();
          if (this.answered.size > 0) void this.checkLegs();
        }),
        events.on('agent', (agent) => {
          if (agent.id === options.agentId && this.stateValue === 'registered') void this.poll();
        }),
      );
    }
  }

  get state(): VoiceClientState {
    return this.stateValue;
  }

  on<E extends keyof VoiceClientEvents>(event: E, listener: VoiceClientEvents[E]): () => void {
    return this.emitter.on(event, listener);
  }

  async register(): Promise<void> {
    if (this.destroyed) throw new Error('The phone was shut down.');
    this.setState('registering');
    const result = await settle(this.options.api.GET('/api/demo/ringing'));
    if (this.destroyed) return;
    if (!result.ok) {
      const message =
        result.problem.status === 404
          ? 'The demo phone is not available on this server.'
          : `The demo phone could not connect: ${result.problem.message}`;
      this.emitter.emit('error', { code: result.problem.code, message });
      this.setState('error');
      throw new Error(message);
    }
    this.setState('registered');
    this.failures = 0;
    this.apply(result.data);
    this.schedulePoll();
  }

  async unregister(): Promise<void> {
    this.stopPolling();
    this.setState('unregistered');
    // Nothing rings here any more.
    for (const sid of [...this.ringing.keys()]) this.stopRinging(sid);
  }

  async accept(callSid: string): Promise<void> {
    const result = await settle(
      this.options.api.POST('/api/demo/ringing/{call_sid}/accept', { params: { path: { call_sid: callSid } } }),
    );
    if (!result.ok) {
      if (result.problem.status === 404 || result.problem.status === 409) {
        // It is gone (answered elsewhere, or the caller hung up).
        this.stopRinging(callSid);
      }
      throw problemError(result.problem);
    }
    this.ringing.delete(callSid);
    this.done.add(callSid);
    this.answered.set(callSid, { at: this.now(), seenUp: false, callId: null });
    this.emitter.emit('accepted', callSid);
    void this.checkLegs();
  }

  async resume(call: IncomingCallInfo): Promise<void> {
    this.done.add(call.callSid);
    // Seen up by the server already (that is why it can be resumed): its end is reported at once.
    this.answered.set(call.callSid, { at: this.now(), seenUp: true, callId: call.parameters.call_id ?? null });
    void this.checkLegs();
  }

  async reject(callSid: string): Promise<void> {
    this.ringing.delete(callSid);
    this.done.add(callSid);
    const result = await settle(
      this.options.api.POST('/api/demo/ringing/{call_sid}/reject', { params: { path: { call_sid: callSid } } }),
    );
    if (!result.ok && result.problem.status !== 404 && result.problem.status !== 409) {
      throw problemError(result.problem);
    }
  }

  async hangup(callSid: string): Promise<void> {
    const result = await settle(
      this.options.api.POST('/api/demo/calls/{call_sid}/hangup', { params: { path: { call_sid: callSid } } }),
    );
    if (!result.ok && result.problem.status !== 404 && result.problem.status !== 409) {
      throw problemError(result.problem);
    }
    this.endLeg(callSid);
  }

  mute(callSid: string, muted: boolean): void {
    // No microphone in demo mode; keep the state so the UI behaves as in live mode.
    if (this.answered.has(callSid)) this.emitter.emit('muted', callSid, muted);
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.stopPolling();
    if (this.legTimer) clearTimeout(this.legTimer);
    this.unsubscribers.forEach((u) => u());
    this.setState('unregistered');
    this.emitter.clear();
  }

  /** Check the ringing list now (also called by the timer and by live events). */
  async poll(): Promise<void> {
    if (this.stateValue !== 'registered' || this.destroyed) return;
    if (this.polling) {
      this.pollAgain = true;
      return;
    }
    this.polling = true;
    try {
      do {
        this.pollAgain = false;
        const result = await settle(this.options.api.GET('/api/demo/ringing'));
        if (this.stateValue !== 'registered' || this.destroyed) return;
        if (result.ok) {
          this.failures = 0;
          this.apply(result.data);
        } else {
          this.failures++;
          if (this.failures === 3) {
            this.emitter.emit('error', {
              code: result.problem.code,
              message: `Lost contact with the demo phone: ${result.problem.message}`,
            });
          }
        }
      } while (this.pollAgain);
    } finally {
      this.polling = false;
    }
  }

  /** Check whether answered legs are still up (`GET /api/me/call`). */
  async checkLegs(): Promise<void> {
    if (this.answered.size === 0 || this.destroyed) return;
    if (this.checking) {
      this.checkAgain = true;
      return;
    }
    this.checking = true;
    try {
      do {
        this.checkAgain = false;
        const result = await settle(this.options.api.GET('/api/me/call'));
        if (this.destroyed) return;
        if (!result.ok) continue;
        const call = result.data.call ?? null;
        for (const [sid, leg] of [...this.answered]) {
          if (call && legIsUp(call, sid, this.options.agentId, leg.callId)) {
            leg.seenUp = true;
            leg.callId ??= call.id;
          } else if (leg.seenUp || this.now() - leg.at >= this.answerGraceMs) this.endLeg(sid);
        }
      } while (this.checkAgain && this.answered.size > 0);
    } finally {
      this.checking = false;
      this.scheduleLegCheck();
    }
  }

  private apply(list: DemoRinging[]): void {
    const present = new Set(list.map((r) => r.call_sid));
    for (const sid of [...this.ringing.keys()]) {
      if (!present.has(sid)) this.stopRinging(sid);
    }
    for (const r of list) {
      if (this.ringing.has(r.call_sid) || this.done.has(r.call_sid) || this.answered.has(r.call_sid)) continue;
      const info: IncomingCallInfo = { callSid: r.call_sid, from: r.from, to: r.to, parameters: {} };
      this.ringing.set(r.call_sid, info);
      this.emitter.emit('incoming', info);
    }
  }

  private stopRinging(callSid: string): void {
    if (!this.ringing.delete(callSid)) return;
    this.done.add(callSid);
    this.emitter.emit('cancelled', callSid);
  }

  private endLeg(callSid: string): void {
    if (!this.answered.delete(callSid)) return;
    this.done.add(callSid);
    this.emitter.emit('disconnected', callSid);
  }

  private schedulePoll(): void {
    if (this.pollTimer) clearTimeout(this.pollTimer);
    // Back off a little while the server is unreachable.
    const delay = this.failures > 0 ? Math.min(this.pollMs * 2 ** Math.min(this.failures, 3), 10_000) : this.pollMs;
    this.pollTimer = setTimeout(() => {
      this.pollTimer = null;
      void this.poll().finally(() => {
        if (this.stateValue === 'registered' && !this.destroyed) this.schedulePoll();
      });
    }, delay);
  }

  private scheduleLegCheck(): void {
    if (this.legTimer) clearTimeout(this.legTimer);
    this.legTimer = null;
    if (this.answered.size === 0 || this.destroyed) return;
    this.legTimer = setTimeout(() => {
      this.legTimer = null;
      void this.checkLegs();
    }, this.legCheckMs);
  }

  private stopPolling(): void {
    if (this.pollTimer) clearTimeout(this.pollTimer);
    this.pollTimer = null;
  }

  private setState(state: VoiceClientState): void {
    if (this.stateValue === state) return;
    this.stateValue = state;
    this.emitter.emit('state', state);
  }
}

/**
 * Is the agent leg `callSid` still part of `call` (the agent's current call)? `callId`: the call
 * the leg was seen up in; the agent's current call being another one means this leg is over (the
 * next caller may ring this agent before the end of the last call is seen here).
 */
export function legIsUp(call: CallDetail | null | undefined, callSid: string, agentId: string, callId: string | null = null): boolean {
  if (!call || call.status === 'completed' || call.status === 'abandoned' || call.status === 'failed') return false;
  if (callId !== null && call.id !== callId) return false;
  const bySid = call.participants.find((p) => p.call_sid === callSid);
  if (bySid) return PENDING.has(bySid.status);
  // The server may not have recorded the leg's sid yet: fall back to this agent's live participant
  // without one. A participant with another sid is another leg (e.g. the next call ringing).
  return call.participants.some((p) => p.agent_id === agentId && p.call_sid === null && PENDING.has(p.status));
}

function problemError(problem: ApiProblem): Error {
  const error = new Error(problem.message);
  (error as Error & { problem?: ApiProblem }).problem = problem;
  return error;
}
