import type { ApiProblem, QueueEntry } from '@/api';
import { formatDuration, formatPhone, secondsSince } from '@/lib/format';
import { useNow } from '@/lib/use-now';

interface QueuePanelProps {
  entries: QueueEntry[];
  loading: boolean;
  problem: ApiProblem | null;
}

/** Callers waiting for an agent, longest wait first, with a live wait timer. */
export function QueuePanel({ entries, loading, problem }: QueuePanelProps) {
  const now = useNow(1_000, entries.length > 0);
  const waiting = entries.map((e) => ({ ...e, waited: secondsSince(e.queued_at, now) ?? e.waiting_seconds }));
  const longest = waiting.reduce((max, e) => Math.max(max, e.waited), 0);
  return (
    <section className="panel" aria-labelledby="panel-queue">
      <div className="panel__head">
        <h2 id="panel-queue" className="panel__title">
          Queue
        </h2>
        <span className="panel__meta" data-testid="queue-count">
          {loading ? 'Loading…' : entries.length === 0 ? 'Nobody waiting' : `${entries.length} waiting · longest ${formatDuration(longest)}`}
        </span>
      </div>
      {problem && (
        <p className="problem" role="alert">
          {problem.message}
        </p>
      )}
      {entries.length > 0 && (
        <ol className="queue-list" aria-label="Waiting callers">
          {waiting.map((entry) => (
            <li key={entry.call_id} className="queue-list__item">
              <span className="queue-list__from">{formatPhone(entry.from_number)}</span>
              <span className={`badge badge--${entry.status === 'ringing' ? 'info' : 'neutral'}`}>
                {entry.status === 'ringing' ? 'Ringing an agent' : 'Waiting'}
              </span>
              <span className="queue-list__wait" aria-label={`waiting ${formatDuration(entry.waited)}`}>
                {formatDuration(entry.waited)}
              </span>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
