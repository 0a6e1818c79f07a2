import { useEffect, useRef } from 'react';
import type { AgentView, CallDetail } from '@/api';
import { ActionButton } from '@/components/ActionButton';
import { formatDuration, formatPhone } from '@/lib/format';
import { useNow } from '@/lib/use-now';
import type { CallState, Phone } from '@/voice';
import { activeTransfer, agentName, handedNote, type HandedNote } from '../call-model';
import { SHORTCUT_KEYS } from '../shortcuts';

interface IncomingCallProps {
  ringing: Extract<CallState, { phase: 'ringing' }>;
  /** The server's view of the call offered to this agent, when it has arrived. */
  call: CallDetail | null;
  meId: string;
  team: AgentView[];
  phone: Phone;
  ringtoneBlocked: boolean;
  /** Take focus to Accept when nothing else has it (keyboard users answer with Enter). */
  autoFocus?: boolean;
}

/** The ringing prompt: who is calling, accept or reject. */
export function IncomingCall({ ringing, call, meId, team, phone, ringtoneBlocked, autoFocus = true }: IncomingCallProps) {
  const now = useNow(1_000);
  const acceptRef = useRef<HTMLButtonElement>(null);
  const transfer = call ? activeTransfer(call) : null;
  const toMe = transfer && transfer.to_agent_id === meId ? transfer : null;
  // Ringing as a transfer's target: that transfer's note. Ringing from the queue: a note left
  // with the queue for the next agent.
  const queueNote = call && !toMe ? handedNote(call, meId) : null;
  const note: HandedNote | null = toMe
    ? toMe.note
      ? { note: toMe.note, fromAgentId: toMe.from_agent_id, viaQueue: false }
      : null
    : queueNote?.viaQueue
      ? queueNote
      : null;
  const offered = call && call.participants.some((p) => p.call_sid === ringing.call.callSid || (p.agent_id === meId && p.status === 'ringing'));
  const caller = formatPhone(offered ? call.from_number : ringing.call.from);
  const title = toMe ? `Incoming ${toMe.mode} transfer` : 'Incoming call';

  useEffect(() => {
    if (!autoFocus) return;
    const active = document.activeElement;
    if (!active || active === document.body) acceptRef.current?.focus();
  }, [autoFocus, ringing.call.callSid]);

  return (
    <section className="panel call-card call-card--ringing" role="region" aria-label="Incoming call" data-testid="incoming-call">
      <div className="call-card__pulse" aria-hidden="true" />
      <p className="call-card__eyebrow">{title}</p>
      <p className="call-card__caller" data-testid="incoming-caller">
        {caller}
      </p>
      {toMe && (
        <p className="call-card__detail" data-testid="incoming-transfer-detail">
          {toMe.mode === 'cold'
            ? `From ${agentName(toMe.from_agent_id, team)}, who has already left the call: the customer is on hold, waiting for you.`
            : `From ${agentName(toMe.from_agent_id, team)}, who stays on the line to talk to you first.`}
        </p>
      )}
      {note && (
        <blockquote className="call-card__note" data-testid="handover-note" aria-label="Handover note">
          <p>
            <strong>
              Note from {agentName(note.fromAgentId, team)}
              {note.viaQueue ? ', who sent the call back to the queue' : ''}:
            </strong>{' '}
            {note.note}
          </p>
        </blockquote>
      )}
      <p className="muted">Ringing for {formatDuration((now - ringing.since) / 1000)}</p>
      {ringtoneBlocked && (
        <p className="hint" role="note">
          Your browser blocked the ringtone. Click anywhere on the page to allow sound.
        </p>
      )}
      {ringing.error && (
        <p className="problem" role="alert">
          {ringing.error}
        </p>
      )}
      <div className="call-card__actions">
        <ActionButton
          ref={acceptRef}
          variant="success"
          size="large"
          pending={ringing.answering}
          pendingLabel="Answering…"
          aria-keyshortcuts={SHORTCUT_KEYS.answer}
          onClick={() => void phone.accept()}
        >
          Accept
        </ActionButton>
        <ActionButton
          variant="danger"
          size="large"
          disabled={ringing.answering}
          aria-keyshortcuts={SHORTCUT_KEYS.reject}
          onClick={() => void phone.reject()}
        >
          Reject
        </ActionButton>
      </div>
    </section>
  );
}
