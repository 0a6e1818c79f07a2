import { CALL_STATUS_LABELS } from '@/lib/call-labels';
import { formatDuration, formatPhone, secondsSince } from '@/lib/format';
import { useNow } from '@/lib/use-now';
import { useLiveCalls } from '../hooks/use-live-calls';

/** Supervisors: every call not yet over, who has it and for how long; live. */
export function LiveCallsPanel({ callHref }: { callHref: (id: string) => string }) {
  const { calls, problem } = useLiveCalls();
  const now = useNow(1_000, calls.length > 0);
  return (
    <section className="panel" aria-labelledby="panel-live-calls">
      <div className="panel__head">
        <h2 id="panel-live-calls" className="panel__title">
          Live calls
        </h2>
        <span className="panel__meta">{calls.length === 0 ? 'None' : `${calls.length} live`}</span>
      </div>
      {problem && (
        <p className="problem" role="alert">
          {problem.message}
        </p>
      )}
      {calls.length > 0 && (
        <ul className="queue-list" aria-label="Live calls">
          {calls.map((call) => (
            <li key={call.id} className="queue-list__item">
              <a className="queue-list__from" href={callHref(call.id)}>
                {formatPhone(call.from_number)}
              </a>
              <span className={`badge badge--call-${call.status}`}>{CALL_STATUS_LABELS[call.status]}</span>
              <span className="muted">{call.owner_name ?? '—'}</span>
              <span className="queue-list__wait">{formatDuration(secondsSince(call.answered_at ?? call.created_at, now))}</span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
