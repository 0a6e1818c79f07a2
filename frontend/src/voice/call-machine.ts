/**
 * The browser leg's state machine: idle → ringing → connected → ended → idle.
 *
 * Pure: `transition(state, event)` returns the next state (the same object when the event does not
 * apply), so every rule is unit-tested without a browser. Events about a call other than the one
 * in hand are ignored (late events from an earlier call), except a new invite: with callers
 * queued, the backend rings an agent again milliseconds after their last call ended, and that
 * invite may arrive before the end of the call in hand is seen. It waits (no ringing over a call)
 * and rings as soon as the call in hand ends; a waiting invite that stops ringing is forgotten.
 */
import type { IncomingCallInfo } from './types';

export type CallInfo = IncomingCallInfo;

export type EndReason =
  /** The agent declined. */
  | 'rejected'
  /** It stopped ringing before the agent answered here: answered in another tab, caller hung up, timed out. */
  | 'missed'
  /** The agent hung up from this browser. */
  | 'local_hangup'
  /** The other side ended the leg (the customer hung up, the agent left through the API, transfer completed). */
  | 'remote_hangup';

/** An invite that arrived while another call was in hand. */
export interface WaitingCall {
  call: CallInfo;
  at: number;
}

export type CallState =
  | { phase: 'idle' }
  | {
      phase: 'ringing';
      call: CallInfo;
      since: number;
      /** Accept was clicked and is in flight. */
      answering: boolean;
      /** Why the last accept failed, if it did. */
      error: string | null;
      /** The next call, to ring once this one stops. */
      waiting: WaitingCall | null;
    }
  | {
      phase: 'connected';
      call: CallInfo;
      since: number;
      muted: boolean;
      hangingUp: boolean;
      error: string | null;
      /** The next call, to ring once this one ends. */
      waiting: WaitingCall | null;
    }
  | EndedCall;

export type EndedCall = { phase: 'ended'; call: CallInfo; reason: EndReason; at: number; connectedMs: number | null };

export type PhoneEvent =
  | { type: 'incoming'; call: CallInfo; at: number }
  | { type: 'answer' }
  | { type: 'answer_failed'; callSid: string; error: string }
  | { type: 'accepted'; callSid: string; at: number }
  /** This browser took back the audio of a leg that stayed up (the page was reloaded during the call). */
  | { type: 'resumed'; call: CallInfo; at: number }
  | { type: 'decline'; at: number }
  | { type: 'cancelled'; callSid: string; at: number }
  | { type: 'hangup' }
  | { type: 'hangup_failed'; callSid: string; error: string }
  | { type: 'disconnected'; callSid: string; at: number }
  | { type: 'muted'; callSid: string; muted: boolean }
  | { type: 'dismiss' };

export const IDLE: CallState = { phase: 'idle' };

export function transition(state: CallState, event: PhoneEvent): CallState {
  return step(state, event).state;
}

/**
 * `transition`, also saying which call ended on the way: the call in hand, when the event ended
 * it (the next state is then `ended`, or already the waiting call ringing).
 */
export function step(state: CallState, event: PhoneEvent): { state: CallState; ended: EndedCall | null } {
  const next = apply(state, event);
  if (next.phase !== 'ended' || state.phase === 'ended' || state.phase === 'idle') return { state: next, ended: null };
  const waiting = state.waiting;
  if (!waiting) return { state: next, ended: next };
  return { state: ringing(waiting.call, waiting.at), ended: next };
}

function ringing(call: CallInfo, at: number): CallState {
  return { phase: 'ringing', call, since: at, answering: false, error: null, waiting: null };
}

function apply(state: CallState, event: PhoneEvent): CallState {
  switch (event.type) {
    case 'incoming':
      if (state.phase === 'idle' || state.phase === 'ended') return ringing(event.call, event.at);
      // A duplicate invite for the call in hand, or for the one already waiting.
      if (state.call.callSid === event.call.callSid || state.waiting?.call.callSid === event.call.callSid) return state;
      return { ...state, waiting: { call: event.call, at: event.at } };

    case 'answer':
      if (state.phase !== 'ringing' || state.answering) return state;
      return { ...state, answering: true, error: null };

    case 'answer_failed':
      if (state.phase !== 'ringing' || state.call.callSid !== event.callSid) return state;
      return { ...state, answering: false, error: event.error };

    case 'accepted':
      if (state.phase !== 'ringing' || state.call.callSid !== event.callSid) return state;
      return {
        phase: 'connected',
        call: state.call,
        since: event.at,
        muted: false,
        hangingUp: false,
        error: null,
        waiting: state.waiting ?? null,
      };

    case 'resumed':
      if (state.phase !== 'idle' && state.phase !== 'ended') return state;
      return { phase: 'connected', call: event.call, since: event.at, muted: false, hangingUp: false, error: null, waiting: null };

    case 'decline':
      if (state.phase !== 'ringing') return state;
      return { phase: 'ended', call: state.call, reason: 'rejected', at: event.at, connectedMs: null };

    case 'cancelled':
      if (isWaiting(state, event.callSid)) return forgetWaiting(state);
      if (state.phase !== 'ringing' || state.call.callSid !== event.callSid) return state;
      return { phase: 'ended', call: state.call, reason: 'missed', at: event.at, connectedMs: null };

    case 'hangup':
      if (state.phase !== 'connected' || state.hangingUp) return state;
      return { ...state, hangingUp: true, error: null };

    case 'hangup_failed':
      if (state.phase !== 'connected' || state.call.callSid !== event.callSid) return state;
      return { ...state, hangingUp: false, error: event.error };

    case 'disconnected':
      if (isWaiting(state, event.callSid)) return forgetWaiting(state);
      if (state.phase === 'ringing' && state.call.callSid === event.callSid) {
        return { phase: 'ended', call: state.call, reason: 'missed', at: event.at, connectedMs: null };
      }
      if (state.phase !== 'connected' || state.call.callSid !== event.callSid) return state;
      return {
        phase: 'ended',
        call: state.call,
        reason: state.hangingUp ? 'local_hangup' : 'remote_hangup',
        at: event.at,
        connectedMs: Math.max(0, event.at - state.since),
      };

    case 'muted':
      if (state.phase !== 'connected' || state.call.callSid !== event.callSid || state.muted === event.muted) {
        return state;
      }
      return { ...state, muted: event.muted };

    case 'dismiss':
      return state.phase === 'ended' ? IDLE : state;
  }
}

function isWaiting(state: CallState, callSid: string): boolean {
  return (state.phase === 'ringing' || state.phase === 'connected') && state.waiting?.call.callSid === callSid;
}

function forgetWaiting(state: CallState): CallState {
  return state.phase === 'ringing' || state.phase === 'connected' ? { ...state, waiting: null } : state;
}

/** The call sid in hand, in any phase but idle. */
export function currentCallSid(state: CallState): string | null {
  return state.phase === 'idle' ? null : state.call.callSid;
}

/** Ringing or talking: the agent must not be unregistered or signed out silently. */
export function isBusy(state: CallState): boolean {
  return state.phase === 'ringing' || state.phase === 'connected';
}

export const END_REASON_LABELS: Record<EndReason, string> = {
  rejected: 'You declined the call.',
  missed: 'The call stopped ringing (answered elsewhere, or the caller hung up).',
  local_hangup: 'You hung up.',
  remote_hangup: 'The call ended.',
};
