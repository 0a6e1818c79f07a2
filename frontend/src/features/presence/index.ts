export { PresenceControl } from './components/PresenceControl';
export { MissedCallNotice } from './components/MissedCallNotice';
export { usePresenceLists, type PresenceLists } from './hooks/use-presence-lists';
export {
  awayReasonLabel,
  formatCountdown,
  missedCallNotice,
  notesProblem,
  wrapUpControls,
  wrapUpSecondsLeft,
  MAX_NOTES,
  SYSTEM_AWAY_REASONS,
} from '@/lib/presence-model';
