import { useId, useState, type FormEvent } from 'react';
import type { AgentView, ApiProblem, CallDetail, CreateTransferRequest, Participant, Transfer, TransferMode } from '@/api';
import { ActionButton } from '@/components/ActionButton';
import { ProblemMessage } from '@/components/ProblemMessage';
import { StatusDot } from '@/components/StatusDot';
import { STATUS_LABELS } from '@/lib/agent-status';
import { TRANSFER_STATUS_LABELS } from '@/lib/call-labels';
import { normalizePhoneInput } from '@/lib/format';
import { agentName, transferTargetName } from '../call-model';
import { SHORTCUT_KEYS } from '../shortcuts';
import { transferProgress } from '../transfer-outcome';

/** The longest handover note the server takes. */
export const MAX_NOTE_CHARS = 500;

interface ActiveTransferProps {
  transfer: Transfer;
  call: CallDetail;
  customer: Participant | null;
  meId: string;
  team: AgentView[];
  canControl: boolean;
  pending: string | null;
  problem: ApiProblem | null;
  onComplete: () => void;
  onCancel: () => void;
}

/** A transfer in flight: who, where it stands, complete or cancel. */
export function ActiveTransfer({ transfer, call, customer, meId, team, canControl, pending, problem, onComplete, onCancel }: ActiveTransferProps) {
  const target = transferTargetName(transfer, call, team);
  const toMe = transfer.to_agent_id === meId;
  const consulting = transfer.status === 'consulting';
  return (
    <section className="transfer-card" aria-label="Transfer in progress" data-testid="active-transfer" data-transfer-status={transfer.status}>
      <h3 className="transfer-card__title">
        {transfer.mode === 'warm' ? 'Warm' : 'Cold'} transfer {toMe ? `from ${agentName(transfer.from_agent_id, team)}` : `to ${target}`}
      </h3>
      <p className="transfer-card__status" aria-live="polite">
        <span className={`badge ${consulting ? 'badge--success' : 'badge--info'}`}>{TRANSFER_STATUS_LABELS[transfer.status]}</span>{' '}
        {!toMe && (
          <span data-testid="transfer-progress">
            {transferProgress(transfer, call, team)}
            {consulting && customer?.on_hold ? '. The customer is on hold.' : ''}
          </span>
        )}
        {toMe && 'You are being brought in to take this call.'}
      </p>
      {transfer.note && !toMe && (
        <p className="transfer-card__note muted">
          Your note: <q>{transfer.note}</q>
        </p>
      )}
      {canControl && !toMe && (
        <div className="transfer-card__actions">
          {transfer.mode === 'warm' && (
            <ActionButton
              variant="primary"
              pending={pending === 'transfer:complete'}
              pendingLabel="Completing…"
              disabled={pending !== null || !consulting}
              title={consulting ? 'Hand the call over and leave' : `Available once ${target} answers`}
              onClick={onComplete}
            >
              Complete transfer
            </ActionButton>
          )}
          <ActionButton pending={pending === 'transfer:cancel'} pendingLabel="Canceling…" disabled={pending !== null} onClick={onCancel}>
            Cancel transfer
          </ActionButton>
        </div>
      )}
      <ProblemMessage problem={problem} />
    </section>
  );
}

interface TransferFormProps {
  meId: string;
  team: AgentView[];
  pending: boolean;
  disabled: boolean;
  problem: ApiProblem | null;
  onSubmit: (body: CreateTransferRequest) => void;
  /** Send the customer back to the queue instead (cold), with a note for the next agent. */
  onQueue: (note?: string) => void;
}

/** Start a warm or cold transfer to an available agent (live list) or an E.164 number. */
export function TransferForm({ meId, team, pending, disabled, problem, onSubmit, onQueue }: TransferFormProps) {
  const id = useId();
  const [mode, setMode] = useState<TransferMode>('warm');
  const [holdCustomer, setHoldCustomer] = useState(true);
  const [target, setTarget] = useState<string>(''); // agent id, 'phone' or 'queue'
  const [phone, setPhone] = useState('');
  const [note, setNote] = useState('');
  const toQueue = target === 'queue';
  const candidates = team
    .filter((a) => a.id !== meId && a.active)
    .sort((a, b) => Number(b.status === 'available') - Number(a.status === 'available') || a.display_name.localeCompare(b.display_name));
  const chosenAgent = candidates.find((a) => a.id === target) ?? null;
  const agentGone = chosenAgent !== null && chosenAgent.status !== 'available';
  const phoneProblem = problem && (problem.field?.includes('phone') || (target === 'phone' && problem.code === 'validation_failed')) ? problem : null;
  const noteProblem = problem?.field === 'note' ? problem : null;
  const noteTooLong = note.length > MAX_NOTE_CHARS;
  const ready =
    !disabled && !pending && !noteTooLong && (toQueue || (target === 'phone' && phone.trim() !== '') || (chosenAgent !== null && !agentGone));

  function submit(event: FormEvent) {
    event.preventDefault();
    if (!ready) return;
    if (toQueue) {
      onQueue(note.trim() || undefined);
      return;
    }
    const body: CreateTransferRequest = {
      mode,
      target: target === 'phone' ? { phone_number: normalizePhoneInput(phone) } : { agent_id: target },
      ...(mode === 'warm' ? { hold_customer: holdCustomer } : {}),
      ...(note.trim() ? { note: note.trim() } : {}),
    };
    onSubmit(body);
  }

  return (
    <form className="transfer-form" onSubmit={submit} aria-labelledby={`${id}-title`}>
      <h3 id={`${id}-title`} className="transfer-form__title">
        Transfer
      </h3>
      <fieldset className="segmented" disabled={pending || toQueue}>
        <legend className="sr-only">Transfer type</legend>
        <label className="segmented__option">
          <input type="radio" name={`${id}-mode`} value="warm" checked={mode === 'warm'} onChange={() => setMode('warm')} />
          <span>Warm</span>
        </label>
        <label className="segmented__option">
          <input type="radio" name={`${id}-mode`} value="cold" checked={mode === 'cold'} onChange={() => setMode('cold')} />
          <span>Cold</span>
        </label>
      </fieldset>
      <p className="muted transfer-form__help">
        {toQueue
          ? 'The customer goes back to the queue, ahead of newer callers, and the next available agent takes the call. You leave now.'
          : mode === 'warm'
          ? 'Talk to the target first, then complete the transfer (or cancel it).'
          : 'Hand over at once: you leave now; the customer hears hold music until the target answers.'}
      </p>
      {mode === 'warm' && !toQueue && (
        <label className="checkbox">
          <input type="checkbox" checked={holdCustomer} onChange={(e) => setHoldCustomer(e.target.checked)} disabled={pending} />
          Hold the customer while you consult
        </label>
      )}
      <fieldset className="target-list" disabled={pending}>
        <legend>Transfer to</legend>
        <ul className="target-list__items" aria-label="Agents">
          {candidates.map((agent) => {
            const available = agent.status === 'available';
            return (
              <li key={agent.id}>
                <label className={`target ${available ? '' : 'target--unavailable'}`}>
                  <input
                    type="radio"
                    name={`${id}-target`}
                    value={agent.id}
                    checked={target === agent.id}
                    disabled={!available}
                    aria-keyshortcuts={SHORTCUT_KEYS.transfer}
                    onChange={() => setTarget(agent.id)}
                  />
                  <span className="target__name">{agent.display_name}</span>
                  <span className="target__status">
                    <StatusDot status={agent.status} /> {STATUS_LABELS[agent.status]}
                  </span>
                </label>
              </li>
            );
          })}
          {candidates.length === 0 && <li className="muted">No other agents.</li>}
          <li>
            <label className="target">
              <input type="radio" name={`${id}-target`} value="phone" checked={target === 'phone'} aria-keyshortcuts={SHORTCUT_KEYS.transfer} onChange={() => setTarget('phone')} />
              <span className="target__name">A phone number</span>
            </label>
          </li>
          <li>
            <label className="target">
              <input type="radio" name={`${id}-target`} value="queue" checked={toQueue} onChange={() => setTarget('queue')} />
              <span className="target__name">Back to the queue</span>
            </label>
          </li>
        </ul>
        {target === 'phone' && (
          <div className="field">
            <label htmlFor={`${id}-phone`}>Phone number (E.164)</label>
            <input
              id={`${id}-phone`}
              type="tel"
              inputMode="tel"
              autoComplete="off"
              placeholder="+14155550123"
              value={phone}
              onChange={(e) => setPhone(e.target.value)}
              aria-invalid={phoneProblem ? true : undefined}
              aria-describedby={phoneProblem ? `${id}-phone-error` : `${id}-phone-hint`}
            />
            {phoneProblem ? (
              <p id={`${id}-phone-error`} className="field__error" role="alert">
                {phoneProblem.message}
              </p>
            ) : (
              <p id={`${id}-phone-hint`} className="field__hint">
                A plus sign, the country code, then the number.
              </p>
            )}
          </div>
        )}
      </fieldset>
      <div className="field">
        <label htmlFor={`${id}-note`}>{toQueue ? 'Note for the next agent (optional)' : 'Note for the target (optional)'}</label>
        <input
          id={`${id}-note`}
          type="text"
          autoComplete="off"
          placeholder="e.g. Wants a refund for order 1042"
          value={note}
          onChange={(e) => setNote(e.target.value)}
          disabled={pending}
          aria-invalid={noteProblem || noteTooLong ? true : undefined}
          aria-describedby={`${id}-note-hint`}
        />
        <p id={`${id}-note-hint`} className={noteProblem || noteTooLong ? 'field__error' : 'field__hint'} role={noteProblem || noteTooLong ? 'alert' : undefined}>
          {noteProblem
            ? noteProblem.message
            : noteTooLong
              ? `The note is ${note.length - MAX_NOTE_CHARS} characters too long (at most ${MAX_NOTE_CHARS}).`
              : `Shown to ${toQueue ? 'whoever takes the call next' : 'the target'} while it rings and during the call. ${MAX_NOTE_CHARS - note.length} characters left.`}
        </p>
      </div>
      {agentGone && (
        <p className="hint" role="status">
          {chosenAgent.display_name} is no longer available ({STATUS_LABELS[chosenAgent.status].toLowerCase()}). Pick someone else.
        </p>
      )}
      {problem && !phoneProblem && !noteProblem && <ProblemMessage problem={problem} />}
      <ActionButton type="submit" variant="primary" pending={pending} pendingLabel="Transferring…" disabled={!ready}>
        {toQueue ? 'Send to the queue' : mode === 'warm' ? 'Start warm transfer' : 'Transfer now'}
      </ActionButton>
    </form>
  );
}
