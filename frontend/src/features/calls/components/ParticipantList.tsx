import type { CallDetail, Participant } from '@/api';
import { ActionButton } from '@/components/ActionButton';
import { isLiveParticipant, PARTICIPANT_KIND_LABELS, participantStates } from '@/lib/call-labels';
import { formatPhone } from '@/lib/format';
import { visibleParticipants } from '../call-model';

interface ParticipantListProps {
  call: CallDetail;
  meId: string;
  canControl: boolean;
  /** May remove other agents and phone participants. */
  canRemove: boolean;
  pending: string | null;
  onHold: (p: Participant, hold: boolean) => void;
  onMute: (p: Participant, muted: boolean) => void;
  onRemove: (p: Participant) => void;
}

const STATE_CLASS: Record<string, string> = {
  Talking: 'badge--success',
  'On hold': 'badge--warning',
  Muted: 'badge--neutral',
  Ringing: 'badge--info',
  Dialing: 'badge--info',
};

/** Everyone on the call with what they are doing, and per-person hold / mute / remove. */
export function ParticipantList({ call, meId, canControl, canRemove, pending, onHold, onMute, onRemove }: ParticipantListProps) {
  const rows = visibleParticipants(call);
  return (
    <ul className="participants" aria-label="Participants">
      {rows.map((p) => {
        const live = isLiveParticipant(p);
        const connected = p.status === 'connected';
        const isMe = p.agent_id === meId;
        const name = p.kind === 'agent' || p.kind === 'supervisor' ? p.display_name : formatPhone(p.phone ?? p.display_name);
        const busy = pending !== null;
        return (
          <li
            key={p.id}
            className={`participant${live ? '' : ' participant--gone'}`}
            data-participant-kind={p.kind}
            data-participant-status={p.status}
            data-agent-id={p.agent_id ?? undefined}
          >
            <div className="participant__who">
              <span className="participant__name">
                {name}
                {isMe && <span className="muted"> (you)</span>}
              </span>
              <span className="participant__kind">{PARTICIPANT_KIND_LABELS[p.kind]}</span>
            </div>
            <div className="participant__states" aria-label={`${name}: ${participantStates(p).join(', ')}`}>
              {participantStates(p).map((state) => (
                <span key={state} className={`badge ${STATE_CLASS[state] ?? 'badge--neutral'}`} data-testid="participant-state">
                  {state}
                </span>
              ))}
            </div>
            {/* A supervisor's leg answers to their monitor mode (from the board), not to these. */}
            {canControl && connected && p.kind !== 'supervisor' && (
              <div className="participant__actions">
                {!isMe && (
                  <ActionButton
                    size="small"
                    pending={pending === `hold:${p.id}`}
                    pendingLabel={p.on_hold ? 'Resuming…' : 'Holding…'}
                    disabled={busy}
                    onClick={() => onHold(p, !p.on_hold)}
                    aria-label={`${p.on_hold ? 'Resume' : 'Hold'} ${name}`}
                  >
                    {p.on_hold ? 'Resume' : 'Hold'}
                  </ActionButton>
                )}
                <ActionButton
                  size="small"
                  pending={pending === `mute:${p.id}`}
                  pendingLabel={p.muted ? 'Unmuting…' : 'Muting…'}
                  disabled={busy}
                  onClick={() => onMute(p, !p.muted)}
                  aria-label={`${p.muted ? 'Unmute' : 'Mute'} ${isMe ? 'yourself' : name}`}
                >
                  {p.muted ? 'Unmute' : 'Mute'}
                </ActionButton>
                {canRemove && !isMe && p.kind !== 'customer' && (
                  <ActionButton
                    size="small"
                    variant="danger"
                    pending={pending === `remove:${p.id}`}
                    pendingLabel="Removing…"
                    disabled={busy}
                    onClick={() => onRemove(p)}
                    aria-label={`Remove ${name} from the call`}
                  >
                    Remove
                  </ActionButton>
                )}
              </div>
            )}
          </li>
        );
      })}
    </ul>
  );
}
