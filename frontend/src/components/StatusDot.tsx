import type { AgentStatus } from '@/api/types';

/** A small coloured dot for a status; decorative, so always pair it with a text label. */
export function StatusDot({ status }: { status: AgentStatus }) {
  return <span className={`status-dot status-dot--${status}`} aria-hidden="true" />;
}
