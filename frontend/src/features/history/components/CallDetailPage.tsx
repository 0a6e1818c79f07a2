import { useCallback, useEffect, useRef, useState } from 'react';
import { settle, useApi, type AgentView, type ApiProblem, type CallDetail, type CallEvent } from '@/api';
import { ProblemMessage } from '@/components/ProblemMessage';
import {
  CALL_STATUS_LABELS,
  eventLabel,
  isFinalCall,
  PARTICIPANT_KIND_LABELS,
  PARTICIPANT_STATUS_LABELS,
  TRANSFER_MODE_LABELS,
  TRANSFER_STATUS_LABELS,
} from '@/lib/call-labels';
import { formatDateTime, formatDuration, formatPhone, formatTime } from '@/lib/format';
import { useLiveEvent } from '@/live';

interface CallDetailPageProps {
  id: string;
  agents: AgentView[];
  backHref: string;
}

/** One call: summary, participants, transfers and the timeline; live while the call is. */
export function CallDetailPage({ id, agents, backHref }: CallDetailPageProps) {
  const api = useApi();
  const [call, setCall] = useState<CallDetail | null>(null);
  const [problem, setProblem] = useState<ApiProblem | null>(null);
  const generation = useRef(0);

  const load = useCallback(() => {
    const mine = ++generation.current;
    void settle(api.GET('/api/calls/{id}', { params: { path: { id } } })).then((result) => {
      if (mine !== generation.current) return;
      if (result.ok) {
        setCall(result.data);
        setProblem(null);
      } else {
        setProblem(result.problem);
      }
    });
  }, [api, id]);

  useEffect(() => {
    setCall(null);
    load();
  }, [load]);
  useLiveEvent('call', (summary) => {
    if (summary.id === id) load();
  });

  const name = (agentId: string | null | undefined) =>
    agentId ? (agents.find((a) => a.id === agentId)?.display_name ?? 'Unknown agent') : '—';
  const participantName = (pid: unknown) =>
    typeof pid === 'string' ? call?.participants.find((p) => p.id === pid)?.display_name : undefined;

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
              <table className="table" aria-labelledby="call-participants">
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
                      <td>{p.kind === 'agent' ? p.display_name : formatPhone(p.phone ?? p.display_name)}</td>
                      <td>{PARTICIPANT_KIND_LABELS[p.kind]}</td>
                      <td>
                        {PARTICIPANT_STATUS_LABELS[p.status]}
                        {p.on_hold && ' · on hold'}
                        {p.muted && ' · muted'}
                      </td>
                      <td>{formatTime(p.joined_at)}</td>
                      <td>{formatTime(p.left_at)}</td>
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
                <table className="table" aria-labelledby="call-transfers" data-testid="transfers">
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
                        <td>{TRANSFER_MODE_LABELS[t.mode]}</td>
                        <td>{name(t.from_agent_id)}</td>
                        <td>{t.to_agent_id ? name(t.to_agent_id) : (t.to_number ?? '—')}</td>
                        <td>{TRANSFER_STATUS_LABELS[t.status]}</td>
                        <td>{formatTime(t.created_at)}</td>
                        <td>{formatTime(t.answered_at)}</td>
                        <td>{formatTime(t.ended_at)}</td>
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
                <li key={event.id} className="timeline__item" data-kind={event.kind}>
                  <time className="timeline__time" dateTime={event.at}>
                    {formatTime(event.at)}
                  </time>
                  <span className="timeline__kind">{eventLabel(event.kind)}</span>
                  <span className="timeline__data muted">{describeEvent(event, name, participantName)}</span>
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

/** A one-line summary of an event's data, with agent and participant ids turned into names. */
export function describeEvent(
  event: CallEvent,
  agentName: (id: string) => string,
  participantName: (id: unknown) => string | undefined,
): string {
  const data = (event.data ?? {}) as Record<string, unknown>;
  const parts: string[] = [];
  for (const [key, value] of Object.entries(data)) {
    if (value === null || value === undefined || value === '') continue;
    if (typeof value === 'object') continue;
    if (key.endsWith('agent_id') || key === 'by') {
      parts.push(`${key === 'by' ? 'by' : key.replace(/_id$/, '').replace(/_/g, ' ')}: ${agentName(String(value))}`);
    } else if (key === 'participant_id') {
      const who = participantName(value);
      if (who) parts.push(`who: ${who}`);
    } else if (key.endsWith('_id') || key.endsWith('Sid') || key.endsWith('_sid')) {
      continue;
    } else {
      parts.push(`${key.replace(/_/g, ' ')}: ${String(value)}`);
    }
    if (parts.length >= 6) break;
  }
  return parts.join(' · ');
}
