import { useState } from 'react';
import { settle, useApi, type Agent, type ApiProblem, type ListEntry, type SettableStatus } from '@/api';
import { StatusDot } from '@/components/StatusDot';
import { SETTABLE_STATUSES, STATUS_DESCRIPTIONS, STATUS_LABELS } from '@/lib/agent-status';
import { awayReasonLabel } from '@/lib/presence-model';

interface PresenceControlProps {
  agent: Agent;
  /** Receives the agent as the server returned it after a change. */
  onChange: (agent: Agent) => void;
  /**
   * Runs before the change is sent; a returned message stops it and is shown. The shell uses it
   * to connect the browser phone before telling the server "available" (else the first call
   * could ring a phone that is not registered yet, and count as missed).
   */
  prepare?: (status: SettableStatus) => Promise<string | null>;
  /** The change was not made (prepare or the server refused). */
  onAbandon?: (status: SettableStatus) => void;
  /** The active away reasons; Away is sent with the one picked. */
  awayReasons?: readonly ListEntry[];
}

/**
 * One-click presence: available / away / offline via `PUT /api/me/status`. Call-driven statuses
 * (ringing, on a call, wrap-up) are shown but can't be picked.
 */
export function PresenceControl({ agent, onChange, prepare, onAbandon, awayReasons = [] }: PresenceControlProps) {
  const api = useApi();
  const [pending, setPending] = useState<SettableStatus | null>(null);
  const [problem, setProblem] = useState<ApiProblem | null>(null);
  const [picked, setPicked] = useState<string>('');
  const current = agent.status;
  const onCall = !SETTABLE_STATUSES.includes(current as SettableStatus);
  const reason = picked || awayReasons[0]?.code || '';
  const currentReason = current === 'away' ? awayReasonLabel(agent.away_reason, awayReasons) : null;

  async function choose(status: SettableStatus, reasonCode: string = reason) {
    if ((status === current && !(status === 'away' && reasonCode !== agent.away_reason)) || pending) return;
    setPending(status);
    setProblem(null);
    const refused = prepare ? await prepare(status) : null;
    if (refused) {
      setPending(null);
      setProblem({ code: 'phone_unavailable', message: refused, status: null });
      onAbandon?.(status);
      return;
    }
    const body = status === 'away' && reasonCode ? { status, reason: reasonCode } : { status };
    const result = await settle(api.PUT('/api/me/status', { body }));
    setPending(null);
    if (result.ok) onChange(result.data);
    else {
      onAbandon?.(status);
      if (result.problem.status !== 401) setProblem(result.problem); // 401 signs out instead
    }
  }

  return (
    <div className="presence">
      <div className="presence__group" role="group" aria-label="Your status">
        {SETTABLE_STATUSES.map((status) => (
          <button
            key={status}
            type="button"
            className={`presence__option presence__option--${status}`}
            aria-pressed={current === status}
            title={STATUS_DESCRIPTIONS[status]}
            disabled={pending !== null}
            onClick={() => void choose(status)}
          >
            <StatusDot status={status} />
            {pending === status ? `${STATUS_LABELS[status]}…` : STATUS_LABELS[status]}
          </button>
        ))}
      </div>
      {/* One fixed-size slot for the away reason or the call state: a call arriving swaps what is
          in it without moving the status buttons under the agent's pointer. */}
      <div className="presence__slot" data-testid="presence-slot">
        {awayReasons.length > 0 && !onCall && (
          <select
            className="presence__reason"
            aria-label="Away reason"
            data-testid="away-reason"
            title={currentReason ? `Away: ${currentReason}` : 'The reason given when you go Away'}
            value={current === 'away' && agent.away_reason ? agent.away_reason : reason}
            disabled={pending !== null}
            onChange={(e) => {
              setPicked(e.target.value);
              if (current === 'away') void choose('away', e.target.value);
            }}
          >
            {current === 'away' && agent.away_reason && !awayReasons.some((r) => r.code === agent.away_reason) && (
              <option value={agent.away_reason} disabled>
                {currentReason}
              </option>
            )}
            {awayReasons.map((r) => (
              <option key={r.code} value={r.code}>
                {r.label}
              </option>
            ))}
          </select>
        )}
        {onCall && (
          <span className="presence__live" role="status">
            <StatusDot status={current} /> {STATUS_LABELS[current]}
          </span>
        )}
      </div>
      {problem && (
        <p className="presence__error" role="alert">
          {problem.message}
        </p>
      )}
    </div>
  );
}
