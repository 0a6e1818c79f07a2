export { PresenceControl } from './components/PresenceControl';
