import type { AgentView } from '@/api';
import { ActionButton } from '@/components/ActionButton';
import { missedCallNotice } from '@/lib/presence-model';

/**
 * Told when the system set the agent Away (a call rang out or was declined): who called, and a
 * one-click way back to Available.
 */
export function MissedCallNotice({
  agent,
  onGoAvailable,
  pending,
}: {
  agent: AgentView;
  onGoAvailable: () => void;
  pending: boolean;
}) {
  const text = missedCallNotice(agent);
  if (!text) return null;
  return (
    <div className="notice missed-call" role="alert" data-testid="missed-call-notice">
      <span>{text}</span>{' '}
      <ActionButton variant="success" size="small" pending={pending} pendingLabel="Going available…" onClick={onGoAvailable}>
        Go available
      </ActionButton>
    </div>
  );
}
