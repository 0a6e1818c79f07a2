import type { Agent } from '@/api/types';
import { STATUS_DESCRIPTIONS, STATUS_LABELS } from '@/lib/agent-status';

/**
 * Placeholder for the agent dashboard. The panels come from their features as they are built:
 * features/calls (the active call and its controls), features/queue, features/team,
 * features/history and, for admins, features/admin; src/voice provides the browser phone.
 */
export function Dashboard({ agent }: { agent: Agent }) {
  return (
    <div className="dashboard">
      <h1 className="page-title">Dashboard</h1>
      <div className="dashboard__grid">
        <section className="panel" aria-labelledby="panel-status">
          <h2 id="panel-status" className="panel__title">
            Your status
          </h2>
          <p className="panel__big">{STATUS_LABELS[agent.status]}</p>
          <p className="muted">{STATUS_DESCRIPTIONS[agent.status]}</p>
        </section>
        <section className="panel" aria-labelledby="panel-call">
          <h2 id="panel-call" className="panel__title">
            Current call
          </h2>
          <p className="muted">No active call. Calls will appear here when you are available.</p>
        </section>
        <section className="panel" aria-labelledby="panel-queue">
          <h2 id="panel-queue" className="panel__title">
            Queue
          </h2>
          <p className="muted">The live queue and team board are coming soon.</p>
        </section>
      </div>
    </div>
  );
}
