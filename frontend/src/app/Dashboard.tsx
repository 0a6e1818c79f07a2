import type { AgentView } from '@/api/types';
import { LiveCallsPanel } from '@/features/admin';
import { AudioSettingsPanel } from '@/features/audio';
import { CallPanel } from '@/features/calls';
import { DemoControls, HangUpAsCustomer } from '@/features/demo';
import type { PresenceLists } from '@/features/presence';
import { QueuePanel, useQueue } from '@/features/queue';
import { TeamPanel, type TeamState } from '@/features/team';
import { maySupervise } from '@/lib/agent-status';
import { hrefs } from './router';

/**
 * The agent's home: the call area (ringing, active call and its controls) first; the queue and
 * the team board beside it (below it at 768px). Demo mode adds the customer simulator.
 */
export function Dashboard({
  agent,
  team,
  demo,
  presence,
  onAgentChange,
}: {
  agent: AgentView;
  team: TeamState;
  demo: boolean;
  presence?: PresenceLists;
  onAgentChange?: (agent: AgentView) => void;
}) {
  const queue = useQueue();
  return (
    <div className="dashboard">
      <h1 className="page-title page-title--compact">Dashboard</h1>
      <div className="dashboard__grid">
        <div className="dashboard__main">
          <CallPanel
            me={agent}
            team={team.agents}
            historyHref={hrefs.call}
            dispositions={presence?.dispositions}
            wrapUpSettings={presence?.settings}
            onAgentChange={onAgentChange}
            renderCustomerActions={demo ? (call) => <HangUpAsCustomer customerCallSid={call.customer_call_sid} /> : undefined}
          />
          {demo && <DemoControls />}
        </div>
        <div className="dashboard__side">
          <QueuePanel
            entries={queue.entries}
            total={queue.total}
            loading={queue.loading}
            loadingMore={queue.loadingMore}
            hasMore={queue.hasMore}
            problem={queue.problem}
            onLoadMore={queue.loadMore}
          />
          {maySupervise(agent.role) && <LiveCallsPanel callHref={hrefs.call} />}
          <TeamPanel
            agents={team.agents}
            meId={agent.id}
            loading={team.loading}
            problem={team.problem}
            awayReasons={presence?.awayReasons}
          />
          <AudioSettingsPanel />
        </div>
      </div>
    </div>
  );
}
