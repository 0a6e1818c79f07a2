import { useId, useState, type FormEvent } from 'react';
import type { AgentView, CallSummary } from '@/api';
import { ActionButton } from '@/components/ActionButton';
import { ProblemMessage } from '@/components/ProblemMessage';
import { maySupervise } from '@/lib/agent-status';
import { CALL_STATUS_LABELS, CALL_STATUSES } from '@/lib/call-labels';
import { formatDateTime, formatDuration, formatPhone } from '@/lib/format';
import type { HistoryFilters } from '../filters';
import { useCallPage } from '../hooks/use-call-page';

interface HistoryPageProps {
  me: AgentView;
  agents: AgentView[];
  filters: HistoryFilters;
  onFiltersChange: (filters: HistoryFilters) => void;
  callHref: (id: string) => string;
}

/**
 * Call history: filter by status, agent and dates; page through with the server's cursor.
 * Mount it keyed by the filters: new filters start again from the first page.
 */
export function HistoryPage({ me, agents, filters, onFiltersChange, callHref }: HistoryPageProps) {
  const id = useId();
  // Cursors of the pages before the current one; the current page's cursor is the last pushed.
  const [cursors, setCursors] = useState<Array<string | null>>([null]);
  const [draft, setDraft] = useState<HistoryFilters>(filters);
  const cursor = cursors[cursors.length - 1] ?? null;
  const callPage = useCallPage(filters, cursor);
  const items = callPage.data?.items ?? [];
  const next = callPage.isPlaceholderData ? null : (callPage.data?.next_cursor ?? null);
  const loading = callPage.isFetching && (callPage.isPending || callPage.isPlaceholderData);
  const problem = callPage.error ?? null;

  function apply(event: FormEvent) {
    event.preventDefault();
    onFiltersChange(clean(draft));
  }

  const isAdmin = maySupervise(me.role);
  const page = cursors.length;
  const filteredAgent = isAdmin && filters.agent_id ? agents.find((a) => a.id === filters.agent_id) : undefined;
  return (
    <div className="history">
      <h1 className="page-title">Call history</h1>
      <form className="panel filters" onSubmit={apply} aria-label="Filter calls">
        <div className="field">
          <label htmlFor={`${id}-status`}>Status</label>
          <select
            id={`${id}-status`}
            value={draft.status ?? ''}
            onChange={(e) => setDraft({ ...draft, status: (e.target.value || undefined) as HistoryFilters['status'] })}
          >
            <option value="">Any status</option>
            {CALL_STATUSES.map((s) => (
              <option key={s} value={s}>
                {CALL_STATUS_LABELS[s]}
              </option>
            ))}
          </select>
        </div>
        {isAdmin && (
          <div className="field">
            <label htmlFor={`${id}-agent`}>Agent</label>
            <select id={`${id}-agent`} value={draft.agent_id ?? ''} onChange={(e) => setDraft({ ...draft, agent_id: e.target.value || undefined })}>
              <option value="">Any agent</option>
              {agents
                .slice()
                .sort((a, b) => a.display_name.localeCompare(b.display_name))
                .map((a) => (
                  <option key={a.id} value={a.id}>
                    {a.display_name}
                    {a.active ? '' : ' (deactivated)'}
                  </option>
                ))}
            </select>
          </div>
        )}
        <div className="field">
          <label htmlFor={`${id}-since`}>From</label>
          <input id={`${id}-since`} type="date" value={draft.since ?? ''} max={draft.until} onChange={(e) => setDraft({ ...draft, since: e.target.value || undefined })} />
        </div>
        <div className="field">
          <label htmlFor={`${id}-until`}>To</label>
          <input id={`${id}-until`} type="date" value={draft.until ?? ''} min={draft.since} onChange={(e) => setDraft({ ...draft, until: e.target.value || undefined })} />
        </div>
        <div className="filters__actions">
          <button type="submit" className="button button--primary">
            Apply
          </button>
          <button
            type="button"
            className="button button--ghost"
            onClick={() => {
              setDraft({});
              onFiltersChange({});
            }}
          >
            Reset
          </button>
        </div>
      </form>
      {!isAdmin && <p className="muted history__scope">Showing the calls you handled (any leg).</p>}
      {isAdmin && filters.agent_id && (
        <p className="muted history__scope">Calls {filteredAgent?.display_name ?? 'this agent'} handled (any leg)</p>
      )}
      <ProblemMessage problem={problem} />
      <div className="panel table-panel">
        <table className="table" aria-label="Calls" aria-busy={loading}>
          <thead>
            <tr>
              <th scope="col">Started</th>
              <th scope="col">Caller</th>
              <th scope="col">Status</th>
              <th scope="col">Handled by</th>
              <th scope="col">Transfers</th>
              <th scope="col">Disposition</th>
              <th scope="col" className="table__num">
                Duration
              </th>
            </tr>
          </thead>
          <tbody>
            {items.map((call) => (
              <tr key={call.id} data-call-id={call.id}>
                <td>{formatDateTime(call.created_at)}</td>
                <td>
                  <a href={callHref(call.id)}>{formatPhone(call.from_number)}</a>
                </td>
                <td>
                  <span className={`badge badge--call-${call.status}`}>{CALL_STATUS_LABELS[call.status]}</span>
                </td>
                <td>{handledBy(call)}</td>
                <td>{transfers(call)}</td>
                <td>{call.disposition ?? '—'}</td>
                <td className="table__num">{call.duration_seconds != null ? formatDuration(call.duration_seconds) : '—'}</td>
              </tr>
            ))}
            {!loading && items.length === 0 && (
              <tr>
                <td colSpan={7} className="muted">
                  No calls match these filters.
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
      <nav className="pager" aria-label="Pages">
        <ActionButton disabled={page === 1 || loading} onClick={() => setCursors((c) => c.slice(0, -1))}>
          Newer
        </ActionButton>
        <span className="muted" aria-live="polite">
          {loading ? 'Loading…' : `Page ${page}`}
        </span>
        <ActionButton disabled={!next || loading} onClick={() => next && setCursors((c) => [...c, next])}>
          Older
        </ActionButton>
      </nav>
    </div>
  );
}

/** The agents on the call in the order they joined; one whose leg only rang is marked so. */
function handledBy(call: CallSummary): string {
  if (call.handled_by.length === 0) return call.owner_name ?? '—';
  return call.handled_by.map((a) => (a.joined ? a.name : `${a.name} (rang)`)).join(', ');
}

/** The call's transfers, e.g. "warm to Ben Okafor; cold to +1 415 555 0123 (failed)". */
function transfers(call: CallSummary): string {
  if (call.transfer_summary.length === 0) return '—';
  return call.transfer_summary
    .map((t) => {
      const target = t.to_name ?? (t.to_number ? formatPhone(t.to_number) : 'agent');
      const outcome = t.status === 'completed' ? '' : ` (${t.status})`;
      return `${t.mode} to ${target}${outcome}`;
    })
    .join('; ');
}

function clean(filters: HistoryFilters): HistoryFilters {
  const out: HistoryFilters = {};
  if (filters.status) out.status = filters.status;
  if (filters.agent_id) out.agent_id = filters.agent_id;
  if (filters.since) out.since = filters.since;
  if (filters.until) out.until = filters.until;
  return out;
}
