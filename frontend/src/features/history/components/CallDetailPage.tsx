import { useQuery, useQueryClient } from '@tanstack/react-query';
import { orThrow, settle, useApi, type AgentView } from '@/api';
import { ProblemMessage } from '@/components/ProblemMessage';
import {
  CALL_STATUS_LABELS,
  isFinalCall,
  PARTICIPANT_KIND_LABELS,
  PARTICIPANT_STATUS_LABELS,
  TRANSFER_MODE_LABELS,
  TRANSFER_STATUS_LABELS,
} from '@/lib/call-labels';
import { formatDateTime, formatDuration, formatPhone, formatTime } from '@/lib/format';
import { useLiveEvent } from '@/live';
import { agentHungUp, isTwilioReport, timelineDetails, timelineLabel, type TimelineContext } from '../timeline';

interface CallDetailPageProps {
  id: string;
  agents: AgentView[];
  backHref: string;
}

/** One call: summary, participants, transfers and the timeline; live while the call is. */
export function CallDetailPage({ id, agents, backHref }: CallDetailPageProps) {
  const api = useApi();
  const queryClient = useQueryClient();
  const query = useQuery({
    queryKey: ['calls', id],
    queryFn: async ({ signal }) => orThrow(await settle(api.GET('/api/calls/{id}', { params: { path: { id } }, signal }))),
  });
  // The summary event does not carry participants, transfers or the timeline: reload the detail.
  useLiveEvent('call', (summary) => {
    if (summary.id === id) void queryClient.invalidateQueries({ queryKey: ['calls', id], exact: true });
  });
  const call = query.data ?? null;
  const problem = query.error ?? null;

  const name = (agentId: string | null | undefined) =>
    agentId ? (agents.find((a) => a.id === agentId)?.display_name ?? 'Unknown agent') : '—';
  const context: TimelineContext = {
    agents,
    participants: call?.participants ?? [],
    transfers: call?.transfers ?? [],
    agentHungUp: agentHungUp(call?.timeline ?? []),
  };

  return (
    <div className="call-detail">
      <p>
        <a href={backHref}>← Back to history</a>
      </p>
      <ProblemMessage problem={problem} />
      {!call && !problem && <p className="muted">Loading…</p>}
      {call && (
        <>
          <h1 className="page-title">Call from {formatPhone(call.from_number)}</h1>
          <section className="panel" aria-labelledby="call-summary">
            <h2 id="call-summary" className="panel__title">
              Summary
            </h2>
            <dl className="summary">
              <div>
                <dt>Status</dt>
                <dd>
                  <span className={`badge badge--call-${call.status}`}>{CALL_STATUS_LABELS[call.status]}</span>
                  {!isFinalCall(call.status) && <span className="muted"> (live)</span>}
                </dd>
              </div>
              <div>
                <dt>Agent</dt>
                <dd>{call.owner_name ?? name(call.owner_agent_id)}</dd>
              </div>
              <div>
                <dt>Started</dt>
                <dd>{formatDateTime(call.created_at)}</dd>
              </div>
              <div>
                <dt>Answered</dt>
                <dd>{formatTime(call.answered_at)}</dd>
              </div>
              <div>
                <dt>Ended</dt>
                <dd>{formatTime(call.ended_at)}</dd>
              </div>
              <div>
                <dt>Duration</dt>
                <dd>{call.duration_seconds != null ? formatDuration(call.duration_seconds) : '—'}</dd>
              </div>
              <div>
                <dt>Number dialed</dt>
                <dd>{call.to_number}</dd>
              </div>
              <div>
                <dt>Customer call SID</dt>
                <dd className="mono">{call.customer_call_sid}</dd>
              </div>
              <div>
                <dt>Disposition</dt>
                <dd data-testid="call-disposition">{call.disposition_detail?.label ?? call.disposition_detail?.code ?? '—'}</dd>
              </div>
              {call.disposition_detail?.notes && (
                <div>
                  <dt>Notes</dt>
                  <dd className="notes" data-testid="call-notes">
                    {call.disposition_detail.notes}
                  </dd>
                </div>
              )}
            </dl>
          </section>

          <section className="panel" aria-labelledby="call-participants">
            <h2 id="call-participants" className="panel__title">
              Participants
            </h2>
            <div className="table-scroll">
              <table className="table table--stack" aria-labelledby="call-participants">
                <thead>
                  <tr>
                    <th scope="col">Who</th>
                    <th scope="col">Role</th>
                    <th scope="col">Status</th>
                    <th scope="col">Joined</th>
                    <th scope="col">Left</th>
                  </tr>
                </thead>
                <tbody>
                  {call.participants.map((p) => (
                    <tr key={p.id}>
                      <td data-label="Who">{p.kind === 'agent' ? p.display_name : formatPhone(p.phone ?? p.display_name)}</td>
                      <td data-label="Role">{PARTICIPANT_KIND_LABELS[p.kind]}</td>
                      <td data-label="Status">
                        {PARTICIPANT_STATUS_LABELS[p.status]}
                        {p.on_hold && ' · on hold'}
                        {p.muted && ' · muted'}
                      </td>
                      <td data-label="Joined">{formatTime(p.joined_at)}</td>
                      <td data-label="Left">{formatTime(p.left_at)}</td>
                    </tr>
                  ))}
                  {call.participants.length === 0 && (
                    <tr>
                      <td colSpan={5} className="muted">
                        Nobody joined.
                      </td>
                    </tr>
                  )}
                </tbody>
              </table>
            </div>
          </section>

          <section className="panel" aria-labelledby="call-transfers">
            <h2 id="call-transfers" className="panel__title">
              Transfers
            </h2>
            {call.transfers.length === 0 ? (
              <p className="muted">No transfers.</p>
            ) : (
              <div className="table-scroll">
                <table className="table table--stack" aria-labelledby="call-transfers" data-testid="transfers">
                  <thead>
                    <tr>
                      <th scope="col">Type</th>
                      <th scope="col">From</th>
                      <th scope="col">To</th>
                      <th scope="col">Status</th>
                      <th scope="col">Started</th>
                      <th scope="col">Answered</th>
                      <th scope="col">Ended</th>
                    </tr>
                  </thead>
                  <tbody>
                    {call.transfers.map((t) => (
                      <tr key={t.id}>
                        <td data-label="Type">{TRANSFER_MODE_LABELS[t.mode]}</td>
                        <td data-label="From">{name(t.from_agent_id)}</td>
                        <td data-label="To">{t.to_agent_id ? name(t.to_agent_id) : (t.to_number ?? '—')}</td>
                        <td data-label="Status">{TRANSFER_STATUS_LABELS[t.status]}</td>
                        <td data-label="Started">{formatTime(t.created_at)}</td>
                        <td data-label="Answered">{formatTime(t.answered_at)}</td>
                        <td data-label="Ended">{formatTime(t.ended_at)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </section>

          <section className="panel" aria-labelledby="call-timeline">
            <h2 id="call-timeline" className="panel__title">
              Timeline
            </h2>
            <ol className="timeline" aria-labelledby="call-timeline" data-testid="timeline">
              {call.timeline.map((event) => (
                <li
                  key={event.id}
                  className={`timeline__item${isTwilioReport(event) ? ' timeline__item--twilio' : ''}`}
                  data-kind={event.kind}
                >
                  <time className="timeline__time" dateTime={event.at}>
                    {formatTime(event.at)}
                  </time>
                  <span className="timeline__label">{timelineLabel(event, context)}</span>
                  <details className="timeline__details">
                    <summary>Details</summary>
                    <dl>
                      {timelineDetails(event).map(([key, value]) => (
                        <div key={key}>
                          <dt>{key}</dt>
                          <dd className="mono">{value}</dd>
                        </div>
                      ))}
                    </dl>
                  </details>
                </li>
              ))}
              {call.timeline.length === 0 && <li className="muted">No events recorded.</li>}
            </ol>
          </section>
        </>
      )}
    </div>
  );
}
