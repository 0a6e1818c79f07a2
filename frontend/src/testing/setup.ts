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
});
