import { useMemo, useState, type ReactNode } from 'react';
import {
  useApi,
  type AgentView,
  type ApiResult,
  type CallDetail,
  type CreateTransferRequest,
  type Disposition,
  type ListEntry,
  type Participant,
} from '@/api';
import { ActionButton } from '@/components/ActionButton';
import { ProblemMessage } from '@/components/ProblemMessage';
import { maySupervise } from '@/lib/agent-status';
import { CALL_STATUS_LABELS, PARTICIPANT_STATUS_LABELS } from '@/lib/call-labels';
import { formatDuration, formatPhone, secondsSince } from '@/lib/format';
import { useAction } from '@/lib/use-action';
import { useNow } from '@/lib/use-now';
import type { PhoneSnapshot } from '@/voice';
import { callActions } from '../api/call-actions';
import {
  activeTransfer,
  agentName,
  aloneWithCustomer,
  customerParticipant,
  handedNote,
  myParticipant,
  replaceParticipant,
  replaceTransfer,
  supervisorNotice,
} from '../call-model';
import { isHeldLeg, useMyCall } from '../hooks/my-call';
import { SHORTCUT_KEYS } from '../shortcuts';
import { DispositionForm } from './DispositionForm';
import { ParticipantList } from './ParticipantList';
import { ReloadedCallNotice } from './ReloadedCallNotice';
import { ActiveTransfer, TransferForm } from './TransferSection';
import { latestTransfer, senderMessage } from '../transfer-outcome';

interface ActiveCallProps {
  call: CallDetail;
  me: AgentView;
  team: AgentView[];
  phone: PhoneSnapshot;
  /** Extra controls for the customer's side (demo mode: "Hang up as customer"). */
  customerActions?: ReactNode;
  /** The active disposition codes; with them, the call's disposition form is shown. */
  dispositions?: readonly ListEntry[];
}

/** The call in progress: who is on it, for how long, and every control an agent needs. */
export function ActiveCall({ call, me, team, phone, customerActions, dispositions }: ActiveCallProps) {
  const api = useApi();
  const actions = useMemo(() => callActions(api), [api]);
  const { refresh, patch, reloadedLeg } = useMyCall();
  const action = useAction();
  const now = useNow(1_000);

  const mine = myParticipant(call, me.id);
  const customer = customerParticipant(call);
  const transfer = activeTransfer(call);
  const isOwner = call.owner_agent_id === me.id;
  // Anyone on the call (or a supervisor) may hold and mute; ending it for everyone, removing people
  // and transferring belong to the owner (or a supervisor). The backend has the last word either way.
  const canControl = isOwner || maySupervise(me.role) || mine !== null;
  const canManage = isOwner || maySupervise(me.role);
  const started = call.answered_at ?? mine?.joined_at ?? call.created_at;
  const elapsed = secondsSince(started, now) ?? 0;
  const audioHere = phone.call.phase === 'connected';
  const reloaded = !audioHere && mine !== null && mine.status === 'connected' && reloadedLeg !== null && isHeldLeg(reloadedLeg, call, mine);
  const busy = action.pending !== null;
  // Leaving while nobody else is with the customer sends them back to the queue: ask first.
  const alone = aloneWithCustomer(call, me.id);
  const [confirmingLeave, setConfirmingLeave] = useState(false);
  const [filed, setFiled] = useState<Disposition | null>(call.disposition_detail ?? null);
  const askToLeave = confirmingLeave && alone;
  const coached = supervisorNotice(call, me.id);

  async function participantAction(key: string, run: () => ReturnType<typeof actions.hold>) {
    const result = await action.run(key, run);
    if (result?.ok) patch((c) => replaceParticipant(c, result.data));
    refresh();
  }

  async function plain(key: string, run: () => Promise<ApiResult<unknown>>) {
    await action.run(key, run);
    refresh();
  }

  function leave() {
    setConfirmingLeave(false);
    void plain('leave', () => actions.leave(call.id));
  }

  const hold = (p: Participant, on: boolean) => void participantAction(`hold:${p.id}`, () => actions.hold(call.id, p.id, on));
  const mute = (p: Participant, on: boolean) => void participantAction(`mute:${p.id}`, () => actions.mute(call.id, p.id, on));
  const remove = (p: Participant) => void plain(`remove:${p.id}`, () => actions.remove(call.id, p.id));

  async function startTransfer(body: CreateTransferRequest) {
    const result = await action.run('transfer:start', () => actions.startTransfer(call.id, body));
    if (result?.ok) patch((c) => replaceTransfer(c, result.data));
    refresh();
  }
  async function toQueue(note?: string) {
    await action.run('transfer:start', () => actions.transferToQueue(call.id, note));
    refresh();
  }
  async function finishTransfer(kind: 'complete' | 'cancel', transferId: string) {
    const result = await action.run(`transfer:${kind}`, () =>
      kind === 'complete' ? actions.completeTransfer(call.id, transferId) : actions.cancelTransfer(call.id, transferId),
    );
    if (result?.ok) patch((c) => replaceTransfer(c, result.data));
    refresh();
  }

  // The note handed over with this call: with a transfer to this agent, or left with the queue.
  const handedToMe = handedNote(call, me.id);
  // How this agent's last transfer ended, while they are still on the call: a failure or a
  // cancellation they did not make themselves is news.
  const lastFromMe = latestTransfer(call, me.id, 'from');
  const outcome =
    !transfer && lastFromMe && (lastFromMe.status === 'failed' || (lastFromMe.status === 'canceled' && lastFromMe.ended_by !== me.id))
      ? senderMessage(lastFromMe, call, team, me.id)
      : null;

  const participantProblem = action.problemFor((k) => /^(hold|mute|remove):/.test(k));
  const callProblem = action.problemFor((k) => k === 'leave' || k === 'hangup' || k === 'customer-hold' || k === 'self-mute');

  return (
    <section className="panel call-card call-card--active" role="region" aria-label="Current call" data-testid="active-call" data-call-id={call.id}>
      <header className="call-card__header">
        <div>
          <p className="call-card__eyebrow">
            {CALL_STATUS_LABELS[call.status]}
            {mine && mine.status !== 'connected' && ` · you: ${PARTICIPANT_STATUS_LABELS[mine.status].toLowerCase()}`}
          </p>
          <p className="call-card__caller" data-testid="call-caller">
            {formatPhone(call.from_number)}
          </p>
          <p className="muted">
            {isOwner ? 'Your call' : `Owner: ${call.owner_name ?? agentName(call.owner_agent_id, team, 'nobody yet')}`}
            {' · '}
            <span className={audioHere ? '' : 'call-card__audio-warning'}>
              {audioHere
                ? 'Audio in this browser'
                : reloaded
                  ? 'Audio stopped by the page reload'
                  : mine?.status === 'connected'
                    ? 'Audio is in another tab or device'
                    : 'Not connected here'}
            </span>
          </p>
        </div>
        <p className="call-card__timer" aria-label={`Call duration ${formatDuration(elapsed)}`} role="timer" data-testid="call-timer">
          {formatDuration(elapsed)}
        </p>
      </header>

      {coached && (
        <p className={`notice call-card__coached call-card__coached--${coached.mode}`} role="status" data-testid="supervisor-banner" data-mode={coached.mode}>
          {coached.text}
        </p>
      )}

      {reloaded && reloadedLeg && (
        <ReloadedCallNotice callSid={reloadedLeg.callSid} call={call} customerOnHold={customer?.on_hold ?? false} />
      )}

      <div className="call-controls" role="group" aria-label="Call controls">
        {customer && customer.status === 'connected' && canControl && (
          <ActionButton
            variant={customer.on_hold ? 'warning' : 'ghost'}
            pending={action.pending === 'customer-hold'}
            pendingLabel={customer.on_hold ? 'Resuming…' : 'Holding…'}
            disabled={busy}
            aria-pressed={customer.on_hold}
            aria-keyshortcuts={SHORTCUT_KEYS.hold}
            onClick={() => void participantAction('customer-hold', () => actions.hold(call.id, customer.id, !customer.on_hold))}
          >
            {customer.on_hold ? 'Resume customer' : 'Hold customer'}
          </ActionButton>
        )}
        {mine && mine.status === 'connected' && (
          <ActionButton
            variant={mine.muted ? 'warning' : 'ghost'}
            pending={action.pending === 'self-mute'}
            pendingLabel={mine.muted ? 'Unmuting…' : 'Muting…'}
            disabled={busy}
            aria-pressed={mine.muted}
            aria-keyshortcuts={SHORTCUT_KEYS.mute}
            onClick={() => void participantAction('self-mute', () => actions.mute(call.id, mine.id, !mine.muted))}
          >
            {mine.muted ? 'Unmute me' : 'Mute me'}
          </ActionButton>
        )}
        {mine && (
          <ActionButton
            pending={action.pending === 'leave'}
            pendingLabel="Leaving…"
            disabled={busy}
            title={
              alone
                ? 'Leave the call; you are the only agent, so the customer goes back to the queue'
                : 'Leave the call; the customer stays with whoever else is on it'
            }
            aria-expanded={alone ? askToLeave : undefined}
            aria-keyshortcuts={SHORTCUT_KEYS.leave}
            onClick={() => (alone ? setConfirmingLeave(true) : leave())}
          >
            Leave call
          </ActionButton>
        )}
        {canManage && (
          <ActionButton
            variant="danger"
            pending={action.pending === 'hangup'}
            pendingLabel="Hanging up…"
            disabled={busy}
            title="End the call for everyone"
            aria-keyshortcuts={SHORTCUT_KEYS.hangup}
            onClick={() => void plain('hangup', () => actions.hangup(call.id))}
          >
            Hang up
          </ActionButton>
        )}
        {customerActions}
      </div>
      {askToLeave && (
        <div className="hint leave-confirm" role="alertdialog" aria-label="Leave this call?" data-testid="leave-confirm">
          <p>
            <strong>You are the only agent on this call.</strong> If you leave, the customer goes back to the queue and
            another agent will be rung.
          </p>
          <div className="leave-confirm__actions">
            <ActionButton variant="danger" size="small" disabled={busy} onClick={leave}>
              Leave anyway
            </ActionButton>
            <ActionButton size="small" autoFocus onClick={() => setConfirmingLeave(false)}>
              Stay on the call
            </ActionButton>
          </div>
        </div>
      )}
      <ProblemMessage problem={callProblem} onDismiss={action.clear} />

      {handedToMe && (
        <blockquote className="call-card__note" data-testid="handover-note" aria-label="Handover note">
          <p>
            <strong>
              Note from {agentName(handedToMe.fromAgentId, team)}
              {handedToMe.viaQueue ? ', who sent the call back to the queue' : ''}:
            </strong>{' '}
            {handedToMe.note}
          </p>
        </blockquote>
      )}
      {outcome && (
        <p className="notice" role="status" data-testid="transfer-outcome">
          {outcome}
        </p>
      )}

      <h3 className="call-card__section-title">Participants</h3>
      <ParticipantList
        call={call}
        meId={me.id}
        canControl={canControl}
        canRemove={canManage}
        pending={action.pending}
        onHold={hold}
        onMute={mute}
        onRemove={remove}
      />
      <ProblemMessage problem={participantProblem} onDismiss={action.clear} />

      {dispositions && dispositions.length > 0 && (mine !== null || maySupervise(me.role)) && (
        <>
          <h3 className="call-card__section-title">Disposition</h3>
          <DispositionForm callId={call.id} dispositions={dispositions} filed={filed ?? call.disposition_detail ?? null} onSaved={setFiled} />
        </>
      )}

      {transfer ? (
        <ActiveTransfer
          transfer={transfer}
          call={call}
          customer={customer}
          meId={me.id}
          team={team}
          canControl={canManage || transfer.from_agent_id === me.id}
          pending={action.pending}
          problem={action.problemFor((k) => k === 'transfer:complete' || k === 'transfer:cancel')}
          onComplete={() => void finishTransfer('complete', transfer.id)}
          onCancel={() => void finishTransfer('cancel', transfer.id)}
        />
      ) : (
        canManage &&
        call.status === 'in_progress' && (
          <TransferForm
            meId={me.id}
            team={team}
            pending={action.pending === 'transfer:start'}
            disabled={busy}
            problem={action.problemFor('transfer:start')}
            onSubmit={(body) => void startTransfer(body)}
            onQueue={(note) => void toQueue(note)}
          />
        )
      )}
    </section>
  );
}
