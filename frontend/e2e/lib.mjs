// Shared helpers for e2e/*.spec.mjs (run by e2e/run.mjs, which sets the environment).
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

export const env = {
  baseUrl: required('E2E_BASE_URL'),
  adminEmail: required('E2E_ADMIN_EMAIL'),
  adminPassword: required('E2E_ADMIN_PASSWORD'),
  /** The demo agents' password (`DEMO_AGENT_PASSWORD`); call specs skip without it. */
  agentPassword: process.env.E2E_AGENT_PASSWORD || null,
  artifacts: process.env.E2E_ARTIFACTS || join(process.cwd(), 'e2e-artifacts'),
  chromium: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
  /**
   * How long the backend rings an agent before giving up (`RING_TIMEOUT_SECONDS`): run.mjs passes
   * what it started the backend with; against another server, the backend's default (20 s).
   */
  ringTimeoutSeconds: Number(process.env.E2E_RING_TIMEOUT_SECONDS || process.env.RING_TIMEOUT_SECONDS) || 20,
};

function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the specs through \`npm run e2e\``);
  return value;
}

export const SESSION_KEY = 'warm-transfer.session';

export const VIEWPORTS = {
  desktop: { width: 1280, height: 800 },
  tablet: { width: 768, height: 1024 },
  phone: { width: 390, height: 844 },
};

/** The page's full width: at most the viewport's when nothing makes it scroll sideways. */
export async function pageWidth(page) {
  return page.evaluate(() => document.documentElement.scrollWidth);
}

export async function launchBrowser() {
  return chromium.launch({
    executablePath: env.chromium,
    headless: process.env.E2E_HEADFUL !== '1',
    args: [
      ...(process.env.E2E_HEADFUL === '1' ? [] : ['--headless']),
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
  });
}

/**
 * A fresh context (its own localStorage) and page. Uncaught page errors and console errors are
 * collected in `problems` so a spec can assert the app ran cleanly.
 */
export async function openPage(browser, viewport = VIEWPORTS.desktop) {
  const context = await browser.newContext({ viewport, baseURL: env.baseUrl });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  const problems = [];
  page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    // Failed requests the app handles itself (e.g. the expected 401 for a wrong password) are
    // logged by Chromium as console errors; those are not app errors.
    if (msg.type() === 'error' && !/Failed to load resource/.test(msg.text())) {
      problems.push(`console: ${msg.text()}`);
    }
  });
  return { context, page, problems };
}

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/**
 * Runs axe-core (WCAG 2.x A/AA rules and best practices) on the page as it is now, and fails on
 * any serious or critical violation, naming the rule and the elements. `label` says which page
 * and state this is. Every spec calls it on every page and state it visits.
 */
export async function checkA11y(page, label) {
  // Evaluated over the DevTools protocol, so the page's Content-Security-Policy does not apply.
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    const result = await window.axe.run(document, { resultTypes: ['violations'] });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      targets: v.nodes.slice(0, 5).map((n) => n.target.join(' ')),
    }));
  });
  const serious = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(
    serious.map((v) => `${v.impact} ${v.id}: ${v.help} [${v.targets.join(' | ')}]`),
    [],
    `${label}: accessibility violations (axe-core)`,
  );
  return violations;
}

export async function screenshot(page, name) {
  mkdirSync(env.artifacts, { recursive: true });
  const path = join(env.artifacts, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** Calls the backend directly (outside the browser). */
export async function api(path, { token, method = 'GET', body } = {}) {
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
  let json;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text };
}

export async function storedSession(page) {
  const raw = await page.evaluate((key) => window.localStorage.getItem(key), SESSION_KEY);
  return raw ? JSON.parse(raw) : null;
}

export async function signIn(page, email, password) {
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** Why the call specs cannot run against this server, or null when they can. */
export async function demoCallsUnsupported() {
  if (!env.agentPassword) return 'E2E_AGENT_PASSWORD (the demo agents\' password) is not set';
  const config = await api('/api/config');
  if (config.status !== 200 || config.json?.mode !== 'demo') return 'the server is not in demo mode';
  const spec = await api('/openapi.json');
  if (spec.status !== 200 || !spec.json?.paths?.['/api/demo/calls']) {
    return 'the backend has no /api/demo/calls yet (demo call routes not implemented)';
  }
  return null;
}

/** A demo agent signed in on the dashboard, in a context of its own. */
export async function signInAgent(browser, email) {
  const opened = await openPage(browser);
  const { page } = opened;
  await page.goto('/');
  await signIn(page, email, env.agentPassword);
  await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
  const session = await storedSession(page);
  assert.ok(session?.token, `${email}: signed in`);
  return { ...opened, token: session.token, me: session.agent };
}

/** Sets the agent Available in the header and waits for the (simulated) phone and live events. */
export async function goAvailable(page, timeoutMs = 20_000) {
  await page.getByRole('group', { name: 'Your status' }).getByRole('button', { name: 'Available' }).click();
  await page.locator('[aria-label="Your status"] [aria-pressed="true"]', { hasText: 'Available' }).waitFor({ timeout: timeoutMs });
  // Demo mode: the simulated browser phone registers while available.
  await page.getByTestId('phone-status').filter({ hasText: 'Ready' }).waitFor({ timeout: timeoutMs });
  await page.getByTestId('live-status').filter({ hasText: 'Live' }).waitFor({ timeout: timeoutMs });
}

/** Polls (outside the browser) until `check` returns a truthy value, which it returns. */
export async function until(description, check, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    last = await check();
    if (last) return last;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${description}`);
}

export function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export { assert };
