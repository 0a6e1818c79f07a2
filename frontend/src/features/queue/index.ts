export { useQueue } from './hooks/use-queue';
export { QueuePanel } from './components/QueuePanel';
