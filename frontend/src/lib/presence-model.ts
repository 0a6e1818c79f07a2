/** Presence rules shared by the presence, team and calls features (wrap-up, away reasons, notes). */
import type { AgentView, ListEntry, WrapUpSettings } from '@/api/types';
import { formatPhone } from '@/lib/format';

/** The reasons the system (not the agent) sets an agent Away for; not in the admin list. */
export const SYSTEM_AWAY_REASONS: Record<string, string> = {
  missed_call: 'Missed a call',
  declined_call: 'Declined a call',
};

/** The label of an away reason's code: the admin list's, the system's, or the code itself. */
export function awayReasonLabel(code: string | null | undefined, reasons: readonly ListEntry[]): string | null {
  if (!code) return null;
  return reasons.find((r) => r.code === code)?.label ?? SYSTEM_AWAY_REASONS[code] ?? code;
}

/** Whole seconds left of a wrap-up at `now` (epoch ms); 0 once over; null when untimed. */
export function wrapUpSecondsLeft(agent: Pick<AgentView, 'status' | 'wrap_up'>, now: number): number | null {
  if (agent.status !== 'wrap_up' || !agent.wrap_up?.until) return null;
  return Math.max(0, Math.ceil((Date.parse(agent.wrap_up.until) - now) / 1000));
}

/** "1:05", "0:09". */
export function formatCountdown(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

export interface WrapUpControls {
  /** Why Finish cannot be pressed now, or null. */
  finishBlocked: string | null;
  /** Whether Extend is offered (timed wrap-up, not extended yet, extensions on). */
  canExtend: boolean;
  /** What the agent is told about the state of their wrap-up. */
  message: string;
}

/** What the wrap-up panel offers, by the same rules the server applies. */
export function wrapUpControls(
  agent: Pick<AgentView, 'status' | 'wrap_up'>,
  settings: Pick<WrapUpSettings, 'extension_seconds' | 'require_disposition'> | null,
  hasDisposition: boolean,
  now: number,
): WrapUpControls {
  const left = wrapUpSecondsLeft(agent, now);
  const missing = Boolean(settings?.require_disposition) && !hasDisposition;
  const canExtend =
    agent.status === 'wrap_up' && Boolean(agent.wrap_up?.until) && !agent.wrap_up?.extended && (settings?.extension_seconds ?? 0) > 0;
  let message: string;
  if (left === null) message = 'Wrapping up the last call.';
  else if (left > 0) message = `Wrap-up: ${formatCountdown(left)} left, then you are available again.`;
  else if (missing) message = 'Wrap-up time is over: choose a disposition to become available.';
  else message = 'Wrap-up time is over; you will be available in a moment.';
  return {
    finishBlocked: missing ? 'Choose a disposition for the call first.' : null,
    canExtend,
    message,
  };
}

/** The notice an agent the system set Away sees, or null. */
export function missedCallNotice(agent: Pick<AgentView, 'status' | 'away_reason' | 'missed_call'>): string | null {
  if (agent.status !== 'away' || !agent.missed_call) return null;
  const from = formatPhone(agent.missed_call.from_number);
  const what = agent.away_reason === 'declined_call' ? 'You declined a call from' : 'You missed a call from';
  return `${what} ${from}; you are Away. Go available?`;
}

/** The longest notes the server accepts, in characters. */
export const MAX_NOTES = 2000;

/** Why notes cannot be sent as typed, or null (the server checks again). */
export function notesProblem(notes: string): string | null {
  if ([...notes].length > MAX_NOTES) return `Notes can be at most ${MAX_NOTES} characters.`;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(notes)) return 'Notes must not contain control characters.';
  return null;
}
