import { useId, useState, type FormEvent } from 'react';
import { settle, useApi, type CallStatus } from '@/api';
import { ActionButton } from '@/components/ActionButton';
import { ProblemMessage } from '@/components/ProblemMessage';
import { CALL_STATUS_LABELS, isFinalCall } from '@/lib/call-labels';
import { formatTime, normalizePhoneInput } from '@/lib/format';
import { useAction } from '@/lib/use-action';
import { useLiveEvent } from '@/live';
import { OutsideParty } from './OutsideParty';

interface SimulatedCall {
  callSid: string;
  from: string;
  at: string;
  status: CallStatus | null;
  hungUp: boolean;
}

/**
 * Demo mode only: act as a customer. "Simulate a customer call" dials in through the backend's
 * Twilio simulator (`POST /api/demo/calls`); each call made here can be hung up as the customer.
 */
export function DemoControls() {
  const api = useApi();
  const id = useId();
  const [from, setFrom] = useState('');
  const [calls, setCalls] = useState<SimulatedCall[]>([]);
  const action = useAction();

  useLiveEvent('call', (summary) => {
    setCalls((list) =>
      list.some((c) => c.callSid === summary.customer_call_sid)
        ? list.map((c) => (c.callSid === summary.customer_call_sid ? { ...c, status: summary.status } : c))
        : list,
    );
  });

  async function simulate(event: FormEvent) {
    event.preventDefault();
    const number = normalizePhoneInput(from);
    const result = await action.run('simulate', () =>
      settle(api.POST('/api/demo/calls', { body: number ? { from: number } : {} })),
    );
    if (result?.ok) {
      const callSid = result.data.call_sid;
      setCalls((list) => [
        { callSid, from: number || 'random number', at: new Date().toISOString(), status: null, hungUp: false },
        ...list.filter((c) => c.callSid !== callSid),
      ].slice(0, 8));
    }
  }

  async function hangUp(callSid: string) {
    const result = await action.run(`hangup:${callSid}`, () =>
      settle(api.POST('/api/demo/calls/{call_sid}/hangup', { params: { path: { call_sid: callSid } } })),
    );
    if (result?.ok || (!result?.ok && result?.problem.status === 404)) {
      setCalls((list) => list.map((c) => (c.callSid === callSid ? { ...c, hungUp: true } : c)));
    }
  }

  const fromProblem = action.problemFor('simulate');
  return (
    <section className="panel demo-panel" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`} className="panel__title">
        Demo customer
      </h2>
      <form className="demo-form" onSubmit={(e) => void simulate(e)}>
        <div className="field">
          <label htmlFor={`${id}-from`}>Caller number (optional)</label>
          <input
            id={`${id}-from`}
            type="tel"
            inputMode="tel"
            placeholder="+15551230001"
            value={from}
            onChange={(e) => setFrom(e.target.value)}
            aria-invalid={fromProblem?.field ? true : undefined}
          />
        </div>
        <ActionButton type="submit" variant="primary" pending={action.isPending('simulate')} pendingLabel="Dialing…" disabled={action.pending !== null}>
          Simulate a customer call
        </ActionButton>
      </form>
      <ProblemMessage problem={fromProblem ?? action.problemFor((k) => k.startsWith('hangup:'))} onDismiss={action.clear} />
      {calls.length > 0 && (
        <ul className="demo-calls" aria-label="Simulated calls">
          {calls.map((c) => {
            const over = c.hungUp || (c.status !== null && isFinalCall(c.status));
            return (
              <li key={c.callSid} className="demo-calls__item" data-call-sid={c.callSid}>
                <span>
                  <strong>{c.from}</strong> <span className="muted">at {formatTime(c.at)}</span>
                </span>
                <span className="badge badge--neutral">
                  {c.status ? CALL_STATUS_LABELS[c.status] : c.hungUp ? 'Hung up' : 'Dialing'}
                </span>
                <ActionButton
                  size="small"
                  className="button--demo"
                  pending={action.isPending(`hangup:${c.callSid}`)}
                  pendingLabel="Hanging up…"
                  disabled={over || action.pending !== null}
                  onClick={() => void hangUp(c.callSid)}
                  aria-label={`Hang up as customer (${c.from})`}
                >
                  Hang up as customer
                </ActionButton>
              </li>
            );
          })}
        </ul>
      )}
      <OutsideParty />
    </section>
  );
}

/** Demo mode: end the call from the customer's side (their leg hangs up in the simulator). */
export function HangUpAsCustomer({ customerCallSid }: { customerCallSid: string }) {
  const api = useApi();
  const action = useAction();
  return (
    <>
      <ActionButton
        variant="ghost"
        className="button--demo"
        pending={action.pending !== null}
        pendingLabel="Hanging up…"
        onClick={() =>
          void action.run('hangup', () =>
            settle(api.POST('/api/demo/calls/{call_sid}/hangup', { params: { path: { call_sid: customerCallSid } } })),
          )
        }
      >
        Hang up as customer
      </ActionButton>
      <ProblemMessage problem={action.failed?.problem ?? null} onDismiss={action.clear} />
    </>
  );
}
