import type { AgentView, ApiProblem, AgentStatus, ListEntry } from '@/api';
import { StatusDot } from '@/components/StatusDot';
import { STATUS_LABELS } from '@/lib/agent-status';
import { awayReasonLabel } from '@/lib/presence-model';
import { formatAge } from '@/lib/format';
import { useNow } from '@/lib/use-now';

const ORDER: Record<AgentStatus, number> = { available: 0, reserved: 1, busy: 2, wrap_up: 3, away: 4, offline: 5 };

export function sortTeam(agents: AgentView[]): AgentView[] {
  return agents
    .slice()
    .sort((a, b) => ORDER[a.status] - ORDER[b.status] || a.display_name.localeCompare(b.display_name));
}

interface TeamPanelProps {
  agents: AgentView[];
  meId: string;
  loading: boolean;
  problem: ApiProblem | null;
  /** Labels for away reasons' codes. */
  awayReasons?: readonly ListEntry[];
}

/** Everyone's presence, live. */
export function TeamPanel({ agents, meId, loading, problem, awayReasons = [] }: TeamPanelProps) {
  const now = useNow(15_000);
  const sorted = sortTeam(agents.filter((a) => a.active));
  const available = sorted.filter((a) => a.status === 'available').length;
  return (
    <section className="panel" aria-labelledby="panel-team">
      <div className="panel__head">
        <h2 id="panel-team" className="panel__title">
          Team
        </h2>
        <span className="panel__meta">{loading ? 'Loading…' : `${available} of ${sorted.length} available`}</span>
      </div>
      {problem && (
        <p className="problem" role="alert">
          {problem.message}
        </p>
      )}
      <ul className="team-list" aria-label="Team presence">
        {sorted.map((agent) => (
          <li key={agent.id} className="team-list__item" data-agent-id={agent.id}>
            <span className="team-list__name">
              {agent.display_name}
              {agent.id === meId && <span className="muted"> (you)</span>}
            </span>
            <span className="team-list__status">
              <StatusDot status={agent.status} />
              {STATUS_LABELS[agent.status]}
              {agent.status === 'away' && agent.away_reason && (
                <span className="team-list__reason"> · {awayReasonLabel(agent.away_reason, awayReasons)}</span>
              )}
              <span className="muted team-list__age" title={`Since ${new Date(agent.status_changed_at).toLocaleString()}`}>
                {formatAge(agent.status_changed_at, now)}
              </span>
            </span>
          </li>
        ))}
        {!loading && sorted.length === 0 && <li className="muted">No agents yet.</li>}
      </ul>
    </section>
  );
}
