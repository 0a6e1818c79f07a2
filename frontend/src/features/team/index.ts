export { useTeam, upsertAgent, type TeamState } from './hooks/use-team';
export { TeamPanel, sortTeam } from './components/TeamPanel';
