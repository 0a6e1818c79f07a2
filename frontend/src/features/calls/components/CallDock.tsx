import type { AgentView } from '@/api';
import { formatDuration, formatPhone, secondsSince } from '@/lib/format';
import { useNow } from '@/lib/use-now';
import { usePhone, usePhoneState } from '@/voice';
import { myParticipant } from '../call-model';
import { useMyCall } from '../hooks/my-call';
import { IncomingCall } from './IncomingCall';

/**
 * On pages other than the dashboard: the ringing prompt (so a call is never missed while reading
 * history) and a slim "on a call" bar with a way back.
 */
export function CallDock({ me, team, dashboardHref }: { me: AgentView; team: AgentView[]; dashboardHref: string }) {
  const phone = usePhone();
  const snapshot = usePhoneState();
  const { call } = useMyCall();
  const now = useNow(1_000, call !== null);
  const mine = call ? myParticipant(call, me.id) : null;
  if (snapshot.call.phase === 'ringing' && phone && !phone.isExpected(snapshot.call.call.callSid) && !(mine && mine.status === 'connected')) {
    return (
      <div className="call-dock">
        <IncomingCall
          ringing={snapshot.call}
          call={call}
          meId={me.id}
          team={team}
          phone={phone}
          ringtoneBlocked={snapshot.ringtoneBlocked}
          autoFocus={false}
        />
      </div>
    );
  }
  if (call && mine) {
    const elapsed = secondsSince(call.answered_at ?? mine.joined_at ?? call.created_at, now) ?? 0;
    return (
      <div className="call-bar" role="region" aria-label="Call in progress">
        <span>
          On a call with <strong>{formatPhone(call.from_number)}</strong> · {formatDuration(elapsed)}
        </span>
        <a className="button button--primary button--small" href={dashboardHref}>
          Back to the call
        </a>
      </div>
    );
  }
  return null;
}
