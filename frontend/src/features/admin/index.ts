export { AgentsAdminPage } from './components/AgentsAdminPage';
export { LiveCallsPanel } from './components/LiveCallsPanel';
export { useLiveCalls } from './hooks/use-live-calls';
export { DialingPolicyPanel } from './components/DialingPolicyPanel';
