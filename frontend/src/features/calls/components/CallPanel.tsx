import type { ReactNode } from 'react';
import type { AgentStatus, AgentView, CallDetail, ListEntry, WrapUpSettings } from '@/api';
import { ActionButton } from '@/components/ActionButton';
import { maySupervise, STATUS_LABELS } from '@/lib/agent-status';
import { formatDuration, formatPhone } from '@/lib/format';
import { END_REASON_LABELS, usePhone, usePhoneState, type EndReason, type PhoneSnapshot } from '@/voice';
import { agentName, myParticipant } from '../call-model';
import { endedCallMessage } from '../transfer-outcome';
import { useMyCall } from '../hooks/my-call';
import { ActiveCall } from './ActiveCall';
import { IncomingCall } from './IncomingCall';
import { WrapUpPanel } from './WrapUpPanel';

interface CallPanelProps {
  me: AgentView;
  team: AgentView[];
  /** Customer-side controls for a call (demo mode). */
  renderCustomerActions?: (call: CallDetail) => ReactNode;
  /** Link to a call's detail page. */
  historyHref?: (callId: string) => string;
  /** The active disposition codes, for the call's disposition form. */
  dispositions?: readonly ListEntry[];
  wrapUpSettings?: WrapUpSettings | null;
  /** The agent as the server returned it after finishing or extending wrap-up. */
  onAgentChange?: (agent: AgentView) => void;
}

/**
 * The agent's call area: the ringing prompt, the active call, or what is going on when idle.
 * Driven by the browser phone (ringing, audio) and the server (`GET /api/me/call`).
 */
export function CallPanel({
  me,
  team,
  renderCustomerActions,
  historyHref,
  dispositions = [],
  wrapUpSettings = null,
  onAgentChange,
}: CallPanelProps) {
  const phone = usePhone();
  const snapshot = usePhoneState();
  const { call, loaded, problem, lastEnded, lastEndedDetail, dismissEnded, callerFor } = useMyCall();
  const phoneCaller = snapshot.call.phase === 'idle' ? null : (callerFor(snapshot.call.call.callSid) ?? snapshot.call.call.from);
  // A leg the page asked for (a supervisor's listening leg) is answered by itself: no prompt.
  const ringing = snapshot.call.phase === 'ringing' && !phone?.isExpected(snapshot.call.call.callSid) ? snapshot.call : null;
  const mine = call ? myParticipant(call, me.id) : null;
  const onCall = call !== null && mine !== null && mine.status === 'connected';

  if (ringing && phone && !onCall) {
    return (
      <IncomingCall
        ringing={ringing}
        call={call}
        meId={me.id}
        team={team}
        phone={phone}
        ringtoneBlocked={snapshot.ringtoneBlocked}
      />
    );
  }

  if (call && (mine || maySupervise(me.role) || call.owner_agent_id === me.id)) {
    return (
      <>
        {problem && (
          <p className="hint" role="status">
            Could not refresh the call: {problem.message} Showing the last known state.
          </p>
        )}
        <ActiveCall
          call={call}
          me={me}
          team={team}
          phone={snapshot}
          customerActions={renderCustomerActions?.(call)}
          dispositions={dispositions}
        />
      </>
    );
  }

  // What became of the call this agent just left (a transfer they started, one cancelled on
  // them), from the server's state: truer than "the call ended" or "handed over".
  const outcome = lastEnded && lastEndedDetail?.id === lastEnded.id ? endedCallMessage(lastEndedDetail, team, me.id) : null;

  const wrapUp =
    me.status === 'wrap_up' ? (
      <WrapUpPanel me={me} settings={wrapUpSettings} dispositions={dispositions} onChange={(a) => onAgentChange?.(a)} />
    ) : null;

  return (
    <>
      {wrapUp}
      <section className="panel call-card call-card--idle" role="region" aria-label="Current call" data-testid="no-call">
        <h2 className="panel__title">Current call</h2>
        {snapshot.call.phase === 'connected' && phone ? (
          <ConnectedWithoutDetails snapshot={snapshot} caller={phoneCaller} onHangup={() => void phone.hangup()} loaded={loaded} />
        ) : (
          <>
            <p className="panel__big">No active call</p>
            <p className="muted" data-testid="idle-hint">
              {idleHint(me, snapshot)}
            </p>
          </>
        )}
        {snapshot.call.phase === 'ended' && !lastEnded?.handedOver && !outcome && (
          <p className="notice" role="status">
            Call from {formatPhone(phoneCaller)}: {endedLabel(snapshot.call.reason, me.status)}
            {snapshot.call.connectedMs !== null && ` (${formatDuration(snapshot.call.connectedMs / 1000)})`}
          </p>
        )}
        {lastEnded && (snapshot.call.phase !== 'ended' || lastEnded.handedOver || outcome) && (
          <p className="notice" role="status" data-testid="last-call">
            {outcome
              ? `Call from ${formatPhone(lastEnded.from)}: ${outcome}`
              : lastEnded.handedOver
              ? `You handed the call from ${formatPhone(lastEnded.from)} over to ${
                  lastEnded.handedOver.agentId
                    ? agentName(lastEnded.handedOver.agentId, team, 'another agent')
                    : formatPhone(lastEnded.handedOver.number)
                }.`
              : `Your call with ${formatPhone(lastEnded.from)} is over.`}{' '}
            {historyHref && <a href={historyHref(lastEnded.id)}>See it in history</a>}{' '}
            <button type="button" className="link-button" onClick={dismissEnded}>
              Dismiss
            </button>
          </p>
        )}
        {problem && (
          <p className="hint" role="status">
            Could not check for your current call: {problem.message}
          </p>
        )}
      </section>
    </>
  );
}

/**
 * Why the last call on this phone ended. A call that stopped ringing with the agent now away rang
 * out here: the server sets an agent who lets a call ring out Away (the call is queued again), and an
 * agent being rung cannot pick Away themselves; saying "answered elsewhere" would hide why they
 * no longer get calls.
 */
function endedLabel(reason: EndReason, status: AgentStatus): string {
  if (reason === 'missed' && status === 'away') {
    return 'You did not answer in time, so you were set Away and the caller went back to the queue.';
  }
  return END_REASON_LABELS[reason];
}

function idleHint(me: AgentView, phone: PhoneSnapshot): string {
  if (me.status === 'available') {
    if (phone.device === 'registered') return 'You are available. Incoming calls will ring here.';
    if (phone.device === 'registering') return 'You are available. Connecting your browser phone…';
    return 'You are available, but your browser phone is not connected (see above).';
  }
  if (me.status === 'wrap_up') return 'Wrapping up the last call. You will be available again shortly.';
  if (me.status === 'reserved') return 'A call is being offered to you…';
  if (me.status === 'busy') return 'You are on a call.';
  return `You are ${STATUS_LABELS[me.status].toLowerCase()}. Set yourself Available to take calls.`;
}

function ConnectedWithoutDetails({
  snapshot,
  caller,
  onHangup,
  loaded,
}: {
  snapshot: PhoneSnapshot;
  caller: string | null;
  onHangup: () => void;
  loaded: boolean;
}) {
  if (snapshot.call.phase !== 'connected') return null;
  return (
    <>
      <p className="panel__big">Connected to {formatPhone(caller)}</p>
      <p className="muted">{loaded ? 'Waiting for the call details from the server…' : 'Loading the call…'}</p>
      <ActionButton variant="danger" pending={snapshot.call.hangingUp} pendingLabel="Hanging up…" onClick={onHangup}>
        Hang up my line
      </ActionButton>
    </>
  );
}
