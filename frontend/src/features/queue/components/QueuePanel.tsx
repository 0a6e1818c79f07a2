import type { ApiProblem, QueueEntry } from '@/api';
import { formatDuration, formatPhone, secondsSince } from '@/lib/format';
import { useNow } from '@/lib/use-now';

interface QueuePanelProps {
  entries: QueueEntry[];
  /** Callers waiting in all; `entries` may be only the first of them. */
  total?: number;
  loading: boolean;
  loadingMore?: boolean;
  /** Whether a next page exists (the server's `next_cursor`). */
  hasMore?: boolean;
  problem: ApiProblem | null;
  onLoadMore?: () => void;
}

/**
 * Callers waiting for an agent, longest wait first, with a live wait timer. A long queue comes a
 * page at a time: the count is the whole queue's, and "Show more" fetches the next page.
 */
export function QueuePanel({ entries, total, loading, loadingMore = false, hasMore = false, problem, onLoadMore }: QueuePanelProps) {
  const waitingCount = Math.max(total ?? entries.length, entries.length);
  const now = useNow(1_000, entries.length > 0);
  const waiting = entries.map((e) => ({ ...e, waited: secondsSince(e.waiting_since, now) ?? e.waiting_seconds }));
  const longest = waiting.reduce((max, e) => Math.max(max, e.waited), 0);
  return (
    <section className="panel" aria-labelledby="panel-queue">
      <div className="panel__head">
        <h2 id="panel-queue" className="panel__title">
          Queue
        </h2>
        <span className="panel__meta" data-testid="queue-count">
          {loading
            ? 'Loading…'
            : waitingCount === 0
              ? 'Nobody waiting'
              : `${waitingCount} waiting · longest ${formatDuration(longest)}`}
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
      {hasMore && onLoadMore && (
        <p className="queue-more">
          <span data-testid="queue-shown">
            {waitingCount > entries.length
              ? `Showing the ${entries.length} longest-waiting of ${waitingCount}.`
              : `Showing the ${entries.length} longest-waiting.`}
          </span>{' '}
          <button type="button" className="button button--ghost" onClick={onLoadMore} disabled={loadingMore}>
            {loadingMore ? 'Loading…' : 'Show more'}
          </button>
        </p>
      )}
    </section>
  );
}
