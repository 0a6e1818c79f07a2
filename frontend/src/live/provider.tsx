import { createContext, useContext, useEffect, useRef, useSyncExternalStore, type ReactNode } from 'react';
import type { LiveEventMap, LiveEventName, LiveEvents, LiveStatus } from './live-events';

const LiveContext = createContext<LiveEvents | null>(null);

/** Provides one running `LiveEvents` (started and stopped by its owner, `app/`). */
export function LiveEventsProvider({ events, children }: { events: LiveEvents; children: ReactNode }) {
  return <LiveContext.Provider value={events}>{children}</LiveContext.Provider>;
}

export function useLiveEvents(): LiveEvents {
  const events = useContext(LiveContext);
  if (!events) throw new Error('useLiveEvents must be used inside <LiveEventsProvider>');
  return events;
}

/** Calls `handler` for every `name` event; the latest handler is used without re-subscribing. */
export function useLiveEvent<K extends LiveEventName>(name: K, handler: (value: LiveEventMap[K]) => void): void {
  const events = useLiveEvents();
  const ref = useRef(handler);
  ref.current = handler;
  useEffect(() => events.on(name, (value) => ref.current(value)), [events, name]);
}

/** Calls `handler` after every (re)connect, to reload state the page may have missed. */
export function useLiveReconnect(handler: () => void): void {
  const events = useLiveEvents();
  const ref = useRef(handler);
  ref.current = handler;
  useEffect(() => events.onOpen(() => ref.current()), [events]);
}

export function useLiveStatus(): LiveStatus {
  const events = useLiveEvents();
  return useSyncExternalStore(events.subscribeStatus, events.getStatus, events.getStatus);
}
