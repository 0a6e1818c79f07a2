import { settle, useApi } from '@/api';
import type { ApiProblem } from '@/api';
import type { AgentView, QueueEntry } from '@/api/types';
import { ActionButton } from '@/components/ActionButton';
import { ProblemMessage } from '@/components/ProblemMessage';
import { StatusDot } from '@/components/StatusDot';
import { ROLE_LABELS, STATUS_LABELS } from '@/lib/agent-status';
import { MONITOR_MODE_LABELS } from '@/lib/call-labels';
import { formatDuration, formatPhone, secondsSince } from '@/lib/format';
import { useState } from 'react';
import { useAction } from '@/lib/use-action';
import { useNow } from '@/lib/use-now';
import { callClockStart, LIVE_STATE_LABELS, monitoringNow, nobodyToAnswer, stateOf } from '../board-model';
import { useBoardCalls } from '../hooks/use-board-calls';
import { MonitorControls, monitorsLabel } from './MonitorControls';

/** Agents a waiting call may be given to: available, or on or finishing a call. */
const TAKING_CALLS = new Set<AgentView['status']>(['available', 'reserved', 'busy', 'wrap_up']);

/** Give a waiting caller to an agent: first in line, offered to them as soon as they are free. */
function GiveTo({ from, agents, pending, onGive }: { from: string; agents: readonly AgentView[]; pending: boolean; onGive: (agentId: string) => void }) {
  const [agentId, setAgentId] = useState('');
  if (agents.length === 0) return null;
  return (
    <span className="board__give">
      <select aria-label={`Give ${from} to`} value={agentId} onChange={(e) => setAgentId(e.target.value)}>
        <option value="">Give to…</option>
        {agents.map((a) => (
          <option key={a.id} value={a.id}>
            {a.display_name}
          </option>
        ))}
      </select>
      <ActionButton size="small" pending={pending} pendingLabel="Giving…" disabled={!agentId} onClick={() => onGive(agentId)}>
        Give
      </ActionButton>
    </span>
  );
}

const STATE_BADGE: Record<string, string> = {
  queued: 'badge--warning',
  ringing: 'badge--info',
  talking: 'badge--success',
  on_hold: 'badge--neutral',
  consulting: 'badge--info',
};

/**
 * The live board (supervisors and admins): every live call with its state, clock and owner; every
 * agent with their state and time in it; the queue with its waits; an alert when callers wait and
 * nobody is available. Kept current by live events; the clocks tick in the browser.
 */
/** The waiting queue as the board shows it (the app passes the queue feature's). */
export interface BoardQueue {
  entries: readonly QueueEntry[];
  total: number;
  problem: ApiProblem | null;
}

export function BoardPage({
  agents,
  queue,
  callHref,
  meId,
}: {
  agents: readonly AgentView[];
  queue: BoardQueue;
  callHref: (id: string) => string;
  /** The supervisor looking at the board: their own calls get no listen controls. */
  meId: string;
}) {
  const api = useApi();
  const action = useAction();
  const board = useBoardCalls();
  const now = useNow(1_000);
  const team = agents.filter((a) => a.active).slice().sort((a, b) => a.display_name.localeCompare(b.display_name));
  const waiting = Math.max(queue.total, queue.entries.length);
  const longest = queue.entries.reduce((max, e) => Math.max(max, secondsSince(e.waiting_since, now) ?? e.waiting_seconds), 0);
  const available = team.filter((a) => a.status === 'available').length;

  return (
    <div className="board">
      <h1 className="page-title">Live board</h1>
      {nobodyToAnswer(waiting, team) && (
        <p className="alert alert--error" role="alert" data-testid="board-alert">
          {waiting === 1 ? '1 caller is' : `${waiting} callers are`} waiting and no agent is available (longest wait{' '}
          {formatDuration(longest)}).
        </p>
      )}
      <dl className="board__stats" aria-label="Summary">
        <div>
          <dt>Live calls</dt>
          <dd data-testid="board-live-count">{board.calls.length}</dd>
        </div>
        <div>
          <dt>Waiting</dt>
          <dd data-testid="board-waiting-count">{waiting}</dd>
        </div>
        <div>
          <dt>Longest wait</dt>
          <dd>{formatDuration(longest)}</dd>
        </div>
        <div>
          <dt>Available agents</dt>
          <dd>{available}</dd>
        </div>
      </dl>
      <ProblemMessage problem={board.problem ?? queue.problem ?? action.failed?.problem ?? null} onDismiss={action.failed ? action.clear : undefined} />

      <section className="panel table-panel" aria-labelledby="board-calls-title">
        <h2 id="board-calls-title" className="panel__title">
          Live calls ({board.loading ? '…' : board.calls.length})
        </h2>
        <div className="table-scroll">
          <table className="table" aria-labelledby="board-calls-title">
            <thead>
              <tr>
                <th scope="col">Caller</th>
                <th scope="col">State</th>
                <th scope="col">Duration</th>
                <th scope="col">Owner</th>
                <th scope="col">Supervisor</th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {board.calls.length === 0 && (
                <tr>
                  <td colSpan={6} className="muted">
                    No live calls
                  </td>
                </tr>
              )}
              {board.calls.map((call) => {
                const state = stateOf(call);
                return (
                  <tr key={call.id} data-testid="board-call" data-call-id={call.id} data-state={state ?? ''}>
                    <td>
                      <a href={callHref(call.id)}>{formatPhone(call.from_number)}</a>
                    </td>
                    <td>{state && <span className={`badge ${STATE_BADGE[state]}`}>{LIVE_STATE_LABELS[state]}</span>}</td>
                    <td className="table__num">{formatDuration(secondsSince(callClockStart(call), now))}</td>
                    <td>{call.owner_name ?? '—'}</td>
                    <td data-testid="board-call-monitors">{monitorsLabel(call) || '—'}</td>
                    <td>
                      {call.status === 'in_progress' && <MonitorControls call={call} meId={meId} action={action} />}
                      <ActionButton
                        size="small"
                        variant="danger"
                        pending={action.isPending(`end:${call.id}`)}
                        pendingLabel="Ending…"
                        aria-label={`End call from ${formatPhone(call.from_number)}`}
                        onClick={() =>
                          void action.run(`end:${call.id}`, () => settle(api.POST('/api/calls/{id}/hangup', { params: { path: { id: call.id } } })))
                        }
                      >
                        End call
                      </ActionButton>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      </section>

      <div className="board__columns">
        <section className="panel table-panel" aria-labelledby="board-agents-title">
          <h2 id="board-agents-title" className="panel__title">
            Agents ({team.length})
          </h2>
          <div className="table-scroll">
            <table className="table" aria-labelledby="board-agents-title">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">State</th>
                  <th scope="col">In state</th>
                  <th scope="col">
                    <span className="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {team.map((agent) => {
                  const monitoring = monitoringNow(board.calls, agent.id);
                  return (
                    <tr key={agent.id} data-testid="board-agent" data-agent-id={agent.id} data-status={agent.status}>
                      <td>
                        {agent.display_name} <span className="muted">{agent.role === 'agent' ? '' : ROLE_LABELS[agent.role]}</span>
                      </td>
                      <td>
                        {monitoring ? (
                          <>
                            <StatusDot status="busy" /> {MONITOR_MODE_LABELS[monitoring.mode]}
                            {agent.status !== 'busy' && <span className="muted"> ({STATUS_LABELS[agent.status].toLowerCase()})</span>}
                          </>
                        ) : (
                          <>
                            <StatusDot status={agent.status} /> {STATUS_LABELS[agent.status]}
                          </>
                        )}
                      </td>
                      <td className="table__num">{formatDuration(secondsSince(agent.status_changed_at, now))}</td>
                      <td>
                        {agent.status !== 'offline' && (
                          <ActionButton
                            size="small"
                            pending={action.isPending(`sign-out:${agent.id}`)}
                            pendingLabel="Signing out…"
                            aria-label={`Sign out ${agent.display_name}`}
                            onClick={() =>
                              void action.run(`sign-out:${agent.id}`, () =>
                                settle(api.POST('/api/agents/{id}/sign-out', { params: { path: { id: agent.id } } })),
                              )
                            }
                          >
                            Sign out
                          </ActionButton>
                        )}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        </section>

        <section className="panel table-panel" aria-labelledby="board-queue-title">
          <h2 id="board-queue-title" className="panel__title">
            Queue ({waiting})
          </h2>
          <div className="table-scroll">
            <table className="table" aria-labelledby="board-queue-title">
              <thead>
                <tr>
                  <th scope="col">Caller</th>
                  <th scope="col">Waiting</th>
                  <th scope="col">
                    <span className="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {queue.entries.length === 0 && (
                  <tr>
                    <td colSpan={3} className="muted">
                      Nobody waiting
                    </td>
                  </tr>
                )}
                {queue.entries.map((entry, index) => (
                  <tr key={entry.call_id} data-testid="board-queue-entry" data-call-id={entry.call_id}>
                    <td>{formatPhone(entry.from_number)}</td>
                    <td className="table__num">{formatDuration(secondsSince(entry.waiting_since, now) ?? entry.waiting_seconds)}</td>
                    <td>
                      {entry.status === 'queued' && (
                        <GiveTo
                          from={formatPhone(entry.from_number)}
                          agents={team.filter((a) => TAKING_CALLS.has(a.status))}
                          pending={action.isPending(`give:${entry.call_id}`)}
                          onGive={(agentId) =>
                            void action.run(`give:${entry.call_id}`, () =>
                              settle(
                                api.POST('/api/calls/{id}/assign', {
                                  params: { path: { id: entry.call_id } },
                                  body: { agent_id: agentId },
                                }),
                              ),
                            )
                          }
                        />
                      )}
                      {index > 0 && entry.status === 'queued' && (
                        <ActionButton
                          size="small"
                          pending={action.isPending(`front:${entry.call_id}`)}
                          pendingLabel="Moving…"
                          aria-label={`Move ${formatPhone(entry.from_number)} to the front`}
                          onClick={() =>
                            void action.run(`front:${entry.call_id}`, () =>
                              settle(api.POST('/api/calls/{id}/move-to-front', { params: { path: { id: entry.call_id } } })),
                            )
                          }
                        >
                          Move to front
                        </ActionButton>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </section>
      </div>
    </div>
  );
}
