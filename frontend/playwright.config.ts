// Browser end-to-end tests (@playwright/test): e2e/global-setup.ts creates a throwaway database and
// starts the backend serving the built SPA; the specs e2e/*.spec.ts drive Debian's Chromium; the
// setup's teardown stops the backend and drops the database, whatever the specs did.
//
//   npm run e2e                          all specs
//   npm run e2e -- auth.spec.ts          only these (any Playwright filter: -g "title", file:line)
//
// Environment:
//   DATABASE_URL          Postgres server to create the throwaway database on (any database on it
//                         works; the role needs CREATEDB). When unset, ../scripts/db.sh start is used.
//   WARM_TRANSFER_BIN     backend binary (default ../target/debug/warm-transfer)
//   CHROMIUM_PATH         browser (default /usr/bin/chromium); never `playwright install`
//   E2E_SKIP_BUILD=1      serve the existing dist/ instead of running `vite build` first
//   E2E_KEEP_DB=1         keep the database after the run (its name is printed)
//   TEST_DATABASE_PREFIX  put this in front of the database's name (`make test` sets one per run)
//   E2E_BASE_URL          run the specs against an already running server instead; then also set
//                         E2E_ADMIN_EMAIL and E2E_ADMIN_PASSWORD (and E2E_AGENT_PASSWORD, the demo
//                         agents' password, for the call specs, which skip without it)
//   E2E_HEADFUL=1         show the browser (needs a display)
//   E2E_RING_TIMEOUT_SECONDS  how long the backend rings an agent (its RING_TIMEOUT_SECONDS, 5..600;
//                         default: the backend's own, 20 s); the ring-out spec waits that long, so a
//                         short value (e.g. 8) makes it quicker. With E2E_BASE_URL it tells the specs
//                         what that server was started with.
//
// Output, all in e2e-artifacts/ (git-ignored): the specs' screenshots (<spec>-*.png),
// backend.log, results/ (traces and screenshots of failed tests; `npx playwright show-trace`)
// and report/ (the HTML report, offline: `npx playwright show-report e2e-artifacts/report`).
import { defineConfig } from '@playwright/test';
import { join } from 'node:path';
import { ARTIFACTS } from './e2e/paths';

const headful = process.env.E2E_HEADFUL === '1';

export default defineConfig({
  testDir: './e2e',
  testMatch: '*.spec.ts',
  globalSetup: './e2e/global-setup.ts',
  // The specs share one backend, its admin and its two demo agents: one test at a time, in file order.
  workers: 1,
  fullyParallel: false,
  // A flaky test must show.
  retries: 0,
  forbidOnly: !!process.env.CI,
  // Calls are simulated and local, but a debug backend on a shared machine is slow; ring-out waits
  // for the backend's ring timeout.
  timeout: 5 * 60_000,
  expect: { timeout: 15_000 },
  outputDir: join(ARTIFACTS, 'results'),
  reporter: [['list'], ['html', { outputFolder: join(ARTIFACTS, 'report'), open: 'never' }]],
  use: {
    browserName: 'chromium',
    actionTimeout: 15_000,
    // A failed test keeps its trace (actions, DOM snapshots, network, console). The screencast is
    // left out: it costs a busy shared machine much CPU, and the fixtures screenshot every page of
    // a failed test anyway.
    trace: { mode: 'retain-on-failure', screenshots: false },
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
      headless: !headful,
      args: [
        ...(headful ? [] : ['--headless']),
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        // Headless Chromium has no audio hardware: fake microphones and speakers, and grant the
        // microphone without a prompt (the app asks for it when the agent goes available).
        '--use-fake-device-for-media-stream',
        '--use-fake-ui-for-media-stream',
      ],
    },
  },
});
