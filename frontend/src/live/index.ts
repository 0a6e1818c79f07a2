export {
  LiveEvents,
  apiEventStream,
  type LiveEventMap,
  type LiveEventName,
  type LiveEventsOptions,
  type LiveState,
  type LiveStatus,
  type OpenResult,
  type OpenStream,
} from './live-events';
export { LiveEventsProvider, useLiveEvent, useLiveEvents, useLiveReconnect, useLiveStatus } from './provider';
export { backoffDelay, DEFAULT_BACKOFF, type BackoffOptions } from './backoff';
export type { EventSourceMessage } from 'eventsource-parser';
