import { createContext, useContext, useSyncExternalStore, type ReactNode } from 'react';
import type { Phone, PhoneSnapshot } from './phone';

const PhoneContext = createContext<Phone | null>(null);

export function PhoneProvider({ phone, children }: { phone: Phone | null; children: ReactNode }) {
  return <PhoneContext.Provider value={phone}>{children}</PhoneContext.Provider>;
}

/** The page's phone, or `null` while the server's mode is not known yet. */
export function usePhone(): Phone | null {
  return useContext(PhoneContext);
}

const NO_PHONE: PhoneSnapshot = {
  mode: 'demo',
  call: { phase: 'idle' },
  device: 'unregistered',
  wanted: false,
  error: null,
  retryAt: null,
  ringtoneBlocked: false,
  lastCall: null,
};
const noop = () => () => {};
const noPhone = () => NO_PHONE;

export function usePhoneState(): PhoneSnapshot {
  const phone = usePhone();
  return useSyncExternalStore(phone ? phone.subscribe : noop, phone ? phone.getSnapshot : noPhone, phone ? phone.getSnapshot : noPhone);
}
