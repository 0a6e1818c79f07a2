import '@testing-library/jest-dom/vitest';
import { cleanup, configure } from '@testing-library/react';
import { afterEach } from 'vitest';

// The test machines are shared and busy: wait up to 5 s (not 1 s) for an element to appear.
configure({ asyncUtilTimeout: 5_000 });

afterEach(() => {
  // Node-environment tests (e.g. the lint boundaries) have no DOM to clean.
  if (typeof window === 'undefined') return;
  cleanup();
  window.localStorage.clear();
  window.sessionStorage.clear();
});

// jsdom has no media devices: a granted microphone and one speaker, as in a browser where the
// agent has allowed the site (tests about refusals replace it).
if (typeof navigator !== 'undefined' && !navigator.mediaDevices) {
  const device = (kind: MediaDeviceKind, deviceId: string, label: string) =>
    ({ kind, deviceId, label, groupId: 'g', toJSON: () => ({}) }) as MediaDeviceInfo;
  Object.defineProperty(navigator, 'mediaDevices', {
    configurable: true,
    value: {
      getUserMedia: async () => ({ getTracks: () => [{ stop: () => {} }] }) as unknown as MediaStream,
      enumerateDevices: async () => [device('audioinput', 'mic-1', 'Test microphone'), device('audiooutput', 'spk-1', 'Test speaker')],
      addEventListener: () => {},
      removeEventListener: () => {},
    },
  });
}
