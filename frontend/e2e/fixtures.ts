// What every spec shares: `test` with fixtures for pages (a fresh context each, its page errors
// collected), signed-in demo agents, simulated callers and the axe-core check, each cleaned up
// after the test whatever happened; and small helpers (the API outside the browser, screenshots).
// The environment comes from e2e/global-setup.ts (or the caller, with E2E_BASE_URL).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, join } from 'node:path';
import {
  expect,
  test as base,
  type BrowserContext,
  type Locator,
  type Page,
  type TestInfo,
  type ViewportSize,
} from '@playwright/test';
import { ARTIFACTS } from './paths';

export { expect };

/** An API answer's body: each spec asserts on the fields it reads, so it is not typed here. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the specs through \`npm run e2e\``);
  return value;
}

/** Read when used: the global setup fills these in after the spec files are loaded. */
export const env = {
  get baseUrl() {
    return required('E2E_BASE_URL');
  },
  get adminEmail() {
    return required('E2E_ADMIN_EMAIL');
  },
  get adminPassword() {
    return required('E2E_ADMIN_PASSWORD');
  },
  /** The demo agents' password (`DEMO_AGENT_PASSWORD`); call specs skip without it. */
  get agentPassword(): string | null {
    return process.env.E2E_AGENT_PASSWORD || null;
  },
  /**
   * How long the backend rings an agent before giving up (`RING_TIMEOUT_SECONDS`): what the global
   * setup started the backend with; against another server, the backend's default (20 s).
   */
  get ringTimeoutSeconds() {
    return Number(process.env.E2E_RING_TIMEOUT_SECONDS || process.env.RING_TIMEOUT_SECONDS) || 20;
  },
};

export const SESSION_KEY = 'warm-transfer.session';

export const VIEWPORTS = {
  desktop: { width: 1280, height: 800 },
  tablet: { width: 768, height: 1024 },
  phone: { width: 390, height: 844 },
} satisfies Record<string, ViewportSize>;

/** Everything is simulated and local; allow for a slow debug build on a shared machine. */
export const STEP_MS = 30_000;

export interface ApiResult {
  status: number;
  json: Json;
  text: string;
}

/** Calls the backend directly (outside the browser). */
export async function api(
  path: string,
  { token, method = 'GET', body }: { token?: string | null; method?: string; body?: unknown } = {},
): Promise<ApiResult> {
  const res = await fetch(new URL(path, env.baseUrl), {
    method,
    headers: {
      Accept: 'application/json',
      ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
    },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  let json: Json;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text };
}

/**
 * Polls (outside the browser) until `check` returns a truthy value, which it returns; fails
 * naming `description` when it does not come within `timeout`.
 */
export async function until<T>(
  description: string,
  check: () => Promise<T | null | undefined | false> | T | null | undefined | false,
  timeout = STEP_MS,
): Promise<T> {
  let value: T | null | undefined | false = undefined;
  await expect
    .poll(
      async () => {
        value = await check();
        return Boolean(value);
      },
      { message: `timed out waiting for ${description}`, timeout },
    )
    .toBe(true);
  return value as T;
}

/** A full-page screenshot in e2e-artifacts/<name>.png, also attached to the test's report. */
export async function screenshot(page: Page, name: string): Promise<string> {
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  await test.info().attach(name, { path, contentType: 'image/png' });
  return path;
}

/** The page's full width: at most the viewport's when nothing makes it scroll sideways. */
export async function pageWidth(page: Page): Promise<number> {
  return page.evaluate(() => document.documentElement.scrollWidth);
}

export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export async function storedSession(page: Page): Promise<Json> {
  const raw = await page.evaluate((key) => window.localStorage.getItem(key), SESSION_KEY);
  return raw ? JSON.parse(raw) : null;
}

export async function signIn(page: Page, email: string, password: string): Promise<void> {
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** Sets the agent Available in the header and waits for the (simulated) phone and live events. */
export async function goAvailable(page: Page, timeout = STEP_MS): Promise<void> {
  await page.getByRole('group', { name: 'Your status' }).getByRole('button', { name: 'Available' }).click();
  await status(page, 'Available', timeout);
  // Demo mode: the simulated browser phone registers while available.
  await expect(page.getByTestId('phone-status').filter({ hasText: 'Ready' })).toBeVisible({ timeout });
  await expect(page.getByTestId('live-status').filter({ hasText: 'Live' })).toBeVisible({ timeout });
}

/** Waits until the header's status buttons show `label` pressed. */
export async function status(page: Page, label: string, timeout = STEP_MS): Promise<void> {
  await expect(page.locator('[aria-label="Your status"] [aria-pressed="true"]', { hasText: label })).toBeVisible({ timeout });
}

/** The page's ringing prompt, once it shows `from`. */
export async function ringing(page: Page, from: string, timeout = STEP_MS): Promise<Locator> {
  const region = page.getByRole('region', { name: 'Incoming call' });
  await expect(region.getByTestId('incoming-caller').filter({ hasText: from })).toBeVisible({ timeout });
  return region;
}

/** Skips the test (saying why) when the server cannot simulate calls. */
export function requireDemoCalls(unsupported: string | null): void {
  test.skip(unsupported !== null, unsupported ?? '');
}

/** A browser context of its own (its own localStorage) with its page. */
export interface Opened {
  context: BrowserContext;
  page: Page;
  /** Uncaught page errors and console errors, so a spec can assert the app ran cleanly. */
  problems: string[];
}

/** A demo agent signed in on the dashboard. */
export interface SignedIn extends Opened {
  email: string;
  token: string;
  me: Json;
}

interface OpenOptions {
  viewport?: ViewportSize;
  /** Names the page's screenshot when the test fails. */
  label?: string;
  /** Runs on the new context before the first navigation (e.g. an init script). */
  init?: (context: BrowserContext) => Promise<unknown>;
}

interface Fixtures {
  /** Opens a page in a fresh context; closed after the test (screenshot first if it failed). */
  openPage: (options?: OpenOptions) => Promise<Opened>;
  /**
   * Signs a demo agent in on the dashboard in a fresh context. After the test, whatever
   * happened: the agent's call hung up, the agent offline, the context closed.
   */
  signInAgent: (email: string, options?: Omit<OpenOptions, 'label'>) => Promise<SignedIn>;
  /**
   * The demo control "Simulate a customer call", from `page`; returns the customer's call SID.
   * Every caller made this way is hung up after the test (by signInAgent's teardown, with the
   * signed-in agents' tokens), so none rings the next test's agents.
   */
  simulateCall: (page: Page, from: string) => Promise<string>;
  /** The pages opened, agents signed in and callers simulated by this test, for the cleanup. */
  testState: TestState;
  /**
   * Runs axe-core (WCAG 2.x A/AA rules and best practices) on the page as it is now, and fails on
   * any serious or critical violation, naming the rule and the elements. `label` says which page
   * and state this is. Every spec calls it on every page and state it visits.
   */
  checkA11y: (page: Page, label: string) => Promise<void>;
}

interface TestState {
  pages: (Opened & { label: string })[];
  agents: SignedIn[];
  callers: string[];
  /** Set once the failure screenshots are taken, so they show the pages as the test left them. */
  shot: boolean;
}

/** A full-page screenshot of each of the test's pages when it failed, before any cleanup. */
async function shootFailure(state: TestState, testInfo: TestInfo): Promise<void> {
  if (state.shot || testInfo.status === testInfo.expectedStatus) return;
  state.shot = true;
  const spec = basename(testInfo.file).replace(/\.spec\.ts$/, '');
  for (const { page, label } of state.pages) {
    if (page.isClosed()) continue;
    const path = join(ARTIFACTS, `${spec}-failure-${label}.png`);
    await page.screenshot({ path, fullPage: true }).then(
      () => testInfo.attach(`failure: ${label}`, { path, contentType: 'image/png' }),
      () => {},
    );
  }
}

interface WorkerFixtures {
  /** Why the call specs cannot run against this server, or null when they can. */
  demoCallsUnsupported: string | null;
  /** The seeded admin's API token (signed in once per worker). */
  adminToken: string;
}

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export const test = base.extend<Fixtures, WorkerFixtures>({
  demoCallsUnsupported: [
    async ({}, use) => {
      let reason: string | null = null;
      if (!env.agentPassword) {
        reason = "E2E_AGENT_PASSWORD (the demo agents' password) is not set";
      } else {
        const config = await api('/api/config');
        const spec = await api('/openapi.json');
        if (config.status !== 200 || config.json?.mode !== 'demo') reason = 'the server is not in demo mode';
        else if (spec.status !== 200 || !spec.json?.paths?.['/api/demo/calls']) {
          reason = 'the backend has no /api/demo/calls yet (demo call routes not implemented)';
        }
      }
      await use(reason);
    },
    { scope: 'worker' },
  ],

  adminToken: [
    async ({}, use) => {
      const r = await api('/api/auth/login', { method: 'POST', body: { email: env.adminEmail, password: env.adminPassword } });
      expect(r.status, 'the admin signs in').toBe(200);
      await use(r.json.token);
    },
    { scope: 'worker' },
  ],

  testState: async ({}, use) => {
    await use({ pages: [], agents: [], callers: [], shot: false });
  },

  openPage: async ({ browser, testState }, use, testInfo) => {
    const opened = testState.pages;
    await use(async ({ viewport = VIEWPORTS.desktop, label, init } = {}) => {
      const context = await browser.newContext({ viewport, baseURL: env.baseUrl });
      if (init) await init(context);
      const page = await context.newPage();
      page.setDefaultTimeout(15_000);
      const problems: string[] = [];
      page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
      page.on('console', (msg) => {
        // Failed requests the app handles itself (e.g. the expected 401 for a wrong password) are
        // logged by Chromium as console errors; those are not app errors.
        if (msg.type() === 'error' && !/Failed to load resource/.test(msg.text())) {
          problems.push(`console: ${msg.text()}`);
        }
      });
      const entry = { context, page, problems, label: label ?? `page${opened.length + 1}` };
      opened.push(entry);
      return entry;
    });
    await shootFailure(testState, testInfo);
    for (const { context } of opened) await context.close().catch(() => {});
  },

  signInAgent: async ({ openPage, testState }, use, testInfo) => {
    const { agents, callers } = testState;
    await use(async (email, options = {}) => {
      const opened = await openPage({ ...options, label: email.split('@')[0] });
      const { page } = opened;
      await page.goto('/');
      await signIn(page, email, env.agentPassword ?? '');
      await expect(page.getByRole('heading', { name: 'Dashboard' })).toBeVisible();
      const session = await storedSession(page);
      expect(session?.token, `${email}: signed in`).toBeTruthy();
      const agent = { ...opened, email, token: session.token as string, me: session.agent };
      agents.push(agent);
      return agent;
    });
    await shootFailure(testState, testInfo);
    // Hang up every caller the test made (as the customer: the agent who placed the call or the
    // one on it may, the others get 404), so none is left in the queue to ring the next test's
    // agents.
    for (const sid of callers) {
      for (const { token } of agents) {
        const r = await api(`/api/demo/calls/${encodeURIComponent(sid)}/hangup`, { token, method: 'POST' }).catch(() => null);
        if (r && r.status !== 401 && r.status !== 404) break;
      }
    }
    // A call still in hand keeps the agent from going offline: end it, then wait for the agent
    // to be off it. Best effort: the next test starts from fresh sign-ins anyway.
    for (const a of agents) {
      try {
        const mine = await api('/api/me/call', { token: a.token });
        if (mine.status === 200 && mine.json?.call) {
          await api(`/api/calls/${mine.json.call.id}/hangup`, { token: a.token, method: 'POST' });
        }
        await until(`${a.email} goes offline`, async () => {
          const r = await api('/api/me/status', { token: a.token, method: 'PUT', body: { status: 'offline' } });
          return r.status === 200 || r.status === 401; // 401: signed out already
        });
      } catch {
        // Left as it is; its context closes in openPage's teardown.
      }
    }
  },

  simulateCall: async ({ testState }, use) => {
    await use(async (page, from) => {
      await page.getByLabel('Caller number (optional)').fill(from);
      await page.getByRole('button', { name: 'Simulate a customer call' }).click();
      const item = page.getByRole('list', { name: 'Simulated calls' }).getByRole('listitem').filter({ hasText: from });
      await expect(item).toBeVisible({ timeout: STEP_MS });
      const sid = await item.getAttribute('data-call-sid');
      expect(sid, `the simulator returned the call sid for ${from}`).toBeTruthy();
      testState.callers.push(sid as string);
      return sid as string;
    });
  },

  checkA11y: async ({}, use) => {
    await use(async (page, label) => {
      await test.step(`axe-core: ${label}`, async () => {
        // Evaluated over the DevTools protocol, so the page's Content-Security-Policy does not apply.
        if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(AXE_SOURCE);
        const violations = await page.evaluate(async () => {
          const axe = (window as unknown as { axe: { run: (ctx: Document, opts: object) => Promise<AxeResult> } }).axe;
          const result = await axe.run(document, { resultTypes: ['violations'] });
          return result.violations.map((v) => ({
            id: v.id,
            impact: v.impact,
            help: v.help,
            targets: v.nodes.slice(0, 5).map((n) => n.target.join(' ')),
          }));
        });
        const serious = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
        expect(
          serious.map((v) => `${v.impact} ${v.id}: ${v.help} [${v.targets.join(' | ')}]`),
          `${label}: accessibility violations (axe-core)`,
        ).toEqual([]);
      });
    });
  },
});

interface AxeResult {
  violations: { id: string; impact: string | null; help: string; nodes: { target: string[] }[] }[];
}

/** A note in the test's report (e.g. how long something took). */
export function diagnostic(description: string): void {
  test.info().annotations.push({ type: 'diagnostic', description });
}
