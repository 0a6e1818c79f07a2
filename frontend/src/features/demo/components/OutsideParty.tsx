import { useCallback, useEffect, useId, useState } from 'react';
import { settle, useApi, type DemoOutsideCall } from '@/api';
import { ActionButton } from '@/components/ActionButton';
import { ProblemMessage } from '@/components/ProblemMessage';
import { formatPhone } from '@/lib/format';
import { useAction } from '@/lib/use-action';
import { useLiveEvent } from '@/live';

const POLL_MS = 2_000;

/**
 * Demo mode only: the phone at the other end of a transfer to an outside number. The simulator
 * rings it like any number; here it can be answered, declined, talked to (it joins the call's
 * conference) and hung up (`/api/demo/outside-calls`).
 */
export function OutsideParty() {
  const api = useApi();
  const id = useId();
  const action = useAction();
  const [calls, setCalls] = useState<DemoOutsideCall[]>([]);

  const refresh = useCallback(() => {
    void settle(api.GET('/api/demo/outside-calls')).then((result) => {
      if (result.ok) setCalls(result.data);
    });
  }, [api]);

  useEffect(() => {
    refresh();
    const timer = setInterval(refresh, POLL_MS);
    return () => clearInterval(timer);
  }, [refresh]);
  useLiveEvent('call', refresh);

  async function act(callSid: string, what: 'answer' | 'decline' | 'hang_up') {
    await action.run(`${what}:${callSid}`, () =>
      settle(api.POST('/api/demo/outside-calls/{call_sid}', { params: { path: { call_sid: callSid } }, body: { action: what } })),
    );
    refresh();
  }

  if (calls.length === 0) return null;
  return (
    <section className="demo-outside" aria-labelledby={`${id}-title`} data-testid="outside-party">
      <h3 id={`${id}-title`} className="call-card__section-title">
        Outside party
      </h3>
      <ul className="demo-calls" aria-label="Outside numbers">
        {calls.map((c) => {
          const ringing = c.status === 'ringing';
          return (
            <li key={c.call_sid} className="demo-calls__item" data-call-sid={c.call_sid} data-status={c.status}>
              <span>
                <strong>{formatPhone(c.to)}</strong>{' '}
                <span className="badge badge--neutral">{ringing ? 'Ringing' : 'Talking'}</span>
                {c.heard.length > 0 && (
                  <span className="muted demo-outside__heard" data-testid="outside-heard">
                    {' '}
                    Heard: “{c.heard.join(' ')}”
                  </span>
                )}
              </span>
              <span className="demo-outside__actions">
                {ringing && (
                  <>
                    <ActionButton
                      size="small"
                      variant="success"
                      className="button--demo"
                      pending={action.isPending(`answer:${c.call_sid}`)}
                      disabled={action.pending !== null}
                      onClick={() => void act(c.call_sid, 'answer')}
                      aria-label={`Answer as ${c.to}`}
                    >
                      Answer
                    </ActionButton>
                    <ActionButton
                      size="small"
                      className="button--demo"
                      pending={action.isPending(`decline:${c.call_sid}`)}
                      disabled={action.pending !== null}
                      onClick={() => void act(c.call_sid, 'decline')}
                      aria-label={`Decline as ${c.to}`}
                    >
                      Decline
                    </ActionButton>
                  </>
                )}
                {!ringing && (
                  <ActionButton
                    size="small"
                    variant="danger"
                    className="button--demo"
                    pending={action.isPending(`hang_up:${c.call_sid}`)}
                    disabled={action.pending !== null}
                    onClick={() => void act(c.call_sid, 'hang_up')}
                    aria-label={`Hang up as ${c.to}`}
                  >
                    Hang up
                  </ActionButton>
                )}
              </span>
            </li>
          );
        })}
      </ul>
      <ProblemMessage problem={action.failed?.problem ?? null} onDismiss={action.clear} />
    </section>
  );
}
