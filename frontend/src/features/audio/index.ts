export { AudioSettingsPanel } from './components/AudioSettingsPanel';
