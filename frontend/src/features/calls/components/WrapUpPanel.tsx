import { useEffect, useState } from 'react';
import { settle, useApi, type AgentView, type Disposition, type ListEntry, type WrapUpSettings } from '@/api';
import { ActionButton } from '@/components/ActionButton';
import { ProblemMessage } from '@/components/ProblemMessage';
import { formatCountdown, wrapUpControls, wrapUpSecondsLeft } from '@/lib/presence-model';
import { useAction } from '@/lib/use-action';
import { useNow } from '@/lib/use-now';
import { DispositionForm } from './DispositionForm';

interface WrapUpPanelProps {
  me: AgentView;
  settings: WrapUpSettings | null;
  dispositions: readonly ListEntry[];
  /** The agent as the server returned it after finishing or extending. */
  onChange: (agent: AgentView) => void;
}

/** After-call work: the time left, the call's disposition and notes, Finish and Extend (once). */
export function WrapUpPanel({ me, settings, dispositions, onChange }: WrapUpPanelProps) {
  const api = useApi();
  const action = useAction();
  const now = useNow(500);
  const callId = me.wrap_up?.call_id ?? null;
  const [filed, setFiled] = useState<Disposition | null>(null);

  useEffect(() => {
    setFiled(null);
    if (!callId) return;
    let cancelled = false;
    void settle(api.GET('/api/calls/{id}', { params: { path: { id: callId } } })).then((r) => {
      if (!cancelled && r.ok) setFiled(r.data.disposition_detail ?? null);
    });
    return () => {
      cancelled = true;
    };
  }, [api, callId]);

  const left = wrapUpSecondsLeft(me, now);
  const controls = wrapUpControls(me, settings, Boolean(filed?.code), now);

  async function finish() {
    const result = await action.run('finish', () => settle(api.POST('/api/me/wrap-up/finish')));
    if (result?.ok) onChange(result.data);
  }

  async function extend() {
    const result = await action.run('extend', () => settle(api.POST('/api/me/wrap-up/extend')));
    if (result?.ok) onChange(result.data);
  }

  return (
    <section className="panel call-card wrap-up" role="region" aria-label="Wrap-up" data-testid="wrap-up">
      <h2 className="panel__title">Wrap-up</h2>
      {left !== null && (
        <p className="panel__big" data-testid="wrap-up-countdown" aria-live="off">
          {formatCountdown(left)}
        </p>
      )}
      <p className="muted" role="status" data-testid="wrap-up-message">
        {controls.message}
      </p>
      {callId && <DispositionForm callId={callId} dispositions={dispositions} filed={filed} onSaved={setFiled} />}
      <div className="call-card__controls" role="group" aria-label="Wrap-up controls">
        <ActionButton
          variant="success"
          pending={action.isPending('finish')}
          pendingLabel="Finishing…"
          disabled={action.pending !== null || controls.finishBlocked !== null}
          title={controls.finishBlocked ?? 'Become available now'}
          onClick={() => void finish()}
        >
          Finish wrap-up
        </ActionButton>
        {controls.canExtend && settings && (
          <ActionButton pending={action.isPending('extend')} pendingLabel="Extending…" disabled={action.pending !== null} onClick={() => void extend()}>
            Extend by {formatCountdown(settings.extension_seconds)}
          </ActionButton>
        )}
        {me.wrap_up?.extended && <span className="muted">Extended once (the most allowed).</span>}
      </div>
      {controls.finishBlocked && (
        <p className="hint" data-testid="wrap-up-blocked">
          {controls.finishBlocked}
        </p>
      )}
      <ProblemMessage problem={action.problemFor((k) => k === 'finish' || k === 'extend')} onDismiss={action.clear} />
    </section>
  );
}
