// The supervisor console in a real browser (demo mode, the backend's simulator):
//   - an admin makes agent2 a supervisor on the Agents page;
//   - the supervisor (own browser context) opens the live board; agent1 (another context) takes
//     a simulated call; the board shows it talking with its owner and a ticking clock, updated
//     by live events;
//   - a second caller with nobody available raises the board's alert; a third is moved to the
//     front of the queue from the board, then the second is given to agent1 (back to the
//     front); the alert clears once the callers hang up.
// Screenshots: e2e-artifacts/supervisor-board.png (and supervisor-*.png for the steps). agent2
// is made an agent again at the end, so the other specs see the demo team as they expect.
import { after, before, test } from 'node:test';
import {
  api,
  assert,
  demoCallsUnsupported,
  env,
  goAvailable,
  launchBrowser,
  openPage,
  screenshot,
  signIn,
  signInAgent,
  until,
} from './lib.mjs';

const AGENT = 'agent1@example.com';
const SUPERVISOR = 'agent2@example.com';
/** Everything here is simulated and local; allow for a slow debug build on a shared machine. */
const STEP_MS = 30_000;

let browser;
let skipReason = null;
let adminToken = null;

before(async () => {
  skipReason = await demoCallsUnsupported();
  if (skipReason) return;
  browser = await launchBrowser();
  const r = await api('/api/auth/login', { method: 'POST', body: { email: env.adminEmail, password: env.adminPassword } });
  assert.equal(r.status, 200, 'the admin signs in');
  adminToken = r.json.token;
});

after(async () => {
  if (adminToken) {
    const team = await api('/api/agents', { token: adminToken });
    const sup = team.json?.find((a) => a.email === SUPERVISOR);
    if (sup && sup.role !== 'agent') {
      await api(`/api/agents/${sup.id}`, { token: adminToken, method: 'PATCH', body: { role: 'agent' } }).catch(() => {});
    }
  }
  await browser?.close();
});

async function simulateCall(page, from) {
  await page.getByLabel('Caller number (optional)').fill(from);
  await page.getByRole('button', { name: 'Simulate a customer call' }).click();
  const item = page.getByRole('list', { name: 'Simulated calls' }).getByRole('listitem').filter({ hasText: from });
  await item.waitFor({ timeout: STEP_MS });
  return item.getAttribute('data-call-sid');
}

async function hangUpCaller(token, sid) {
  if (sid) await api(`/api/demo/calls/${encodeURIComponent(sid)}/hangup`, { token, method: 'POST' }).catch(() => {});
}

test('an admin makes a supervisor, who watches the live board while an agent takes calls', async (t) => {
  if (skipReason) {
    t.skip(skipReason);
    return;
  }
  // The admin gives agent2 the supervisor role on the Agents page.
  const admin = await openPage(browser);
  await admin.page.goto('/');
  await signIn(admin.page, env.adminEmail, env.adminPassword);
  await admin.page.getByRole('heading', { name: 'Dashboard' }).waitFor();
  await admin.page.getByRole('link', { name: 'Agents' }).click();
  const team = await api('/api/agents', { token: adminToken });
  const supView = team.json.find((a) => a.email === SUPERVISOR);
  await admin.page.getByRole('button', { name: `Edit ${supView.display_name}` }).click();
  const form = admin.page.getByRole('form', { name: `Edit ${supView.display_name}` });
  await form.getByLabel('Role').selectOption('supervisor');
  await form.getByRole('button', { name: 'Save' }).click();
  await admin.page.getByRole('status').filter({ hasText: `Saved ${supView.display_name}` }).waitFor({ timeout: STEP_MS });
  const saved = await api(`/api/agents/${supView.id}`, { token: adminToken });
  assert.equal(saved.json.role, 'supervisor');
  await admin.context.close();

  const sup = await signInAgent(browser, SUPERVISOR);
  const a = await signInAgent(browser, AGENT);
  let firstSid = null;
  let secondSid = null;
  let thirdSid = null;
  try {
    assert.equal(await sup.page.getByTestId('agent-role').innerText(), 'Supervisor');
    // A plain agent has no board, in the menu or from the API.
    assert.equal(await a.page.getByRole('link', { name: 'Board', exact: true }).count(), 0);
    assert.equal((await api('/api/board/calls', { token: a.token })).status, 403);

    await sup.page.getByRole('link', { name: 'Board', exact: true }).click();
    await sup.page.getByRole('heading', { name: 'Live board' }).waitFor();
    await sup.page.getByTestId('live-status').filter({ hasText: 'Live' }).waitFor({ timeout: STEP_MS });

    // agent1 takes a call; the board follows through live events.
    await goAvailable(a.page, STEP_MS);
    const CALLER = '+15551230801';
    firstSid = await simulateCall(a.page, CALLER);
    const region = a.page.getByRole('region', { name: 'Incoming call' });
    await region.getByTestId('incoming-caller').filter({ hasText: CALLER }).waitFor({ timeout: STEP_MS });
    await region.getByRole('button', { name: 'Accept' }).click();
    const row = sup.page.getByTestId('board-call').filter({ hasText: a.me.display_name });
    await row.and(sup.page.locator('[data-state="talking"]')).waitFor({ timeout: STEP_MS });
    assert.match(await row.innerText(), /Talking/);
    const agentRow = sup.page.getByTestId('board-agent').filter({ hasText: a.me.display_name });
    await agentRow.and(sup.page.locator('[data-status="busy"]')).waitFor({ timeout: STEP_MS });
    // The call's clock ticks in the browser.
    const clock = row.locator('td').nth(2);
    const before = await clock.innerText();
    await until('the call clock ticks', async () => (await clock.innerText()) !== before, 5_000);

    // A second caller while agent1 is busy and nobody else is available: the board alerts.
    const CALLER2 = '+15551230802';
    secondSid = await simulateCall(a.page, CALLER2);
    const alert = sup.page.getByTestId('board-alert');
    await alert.waitFor({ timeout: STEP_MS });
    assert.match(await alert.innerText(), /waiting and no agent is available/);
    await sup.page.getByTestId('board-queue-entry').filter({ hasText: CALLER2.slice(-4) }).waitFor({ timeout: STEP_MS });
    // A third caller; the supervisor moves them ahead of the second.
    const CALLER3 = '+15551230803';
    thirdSid = await simulateCall(a.page, CALLER3);
    const third = sup.page.getByTestId('board-queue-entry').filter({ hasText: CALLER3.slice(-4) });
    await third.waitFor({ timeout: STEP_MS });
    await third.getByRole('button', { name: /to the front$/ }).click();
    await until(
      'the third caller first in the queue',
      async () => (await sup.page.getByTestId('board-queue-entry').first().innerText()).includes(CALLER3.slice(-4)),
      STEP_MS,
    );
    const firstInLine = sup.page.getByTestId('board-queue-entry').first();
    assert.equal(await firstInLine.getByRole('button', { name: /to the front$/ }).count(), 0, 'the first in line has no move button');
    await screenshot(sup.page, 'supervisor-board');
    // The second caller is given to agent1 (on a call): back to the front, offered to them next.
    const secondRow = sup.page.getByTestId('board-queue-entry').filter({ hasText: CALLER2.slice(-4) });
    await secondRow.getByRole('combobox', { name: /^Give .* to$/ }).selectOption({ label: a.me.display_name });
    await secondRow.getByRole('button', { name: 'Give', exact: true }).click();
    await until(
      'the given caller first in the queue',
      async () => (await sup.page.getByTestId('board-queue-entry').first().innerText()).includes(CALLER2.slice(-4)),
      STEP_MS,
    );
    await hangUpCaller(a.token, thirdSid);
    thirdSid = null;

    // The waiting caller gives up: the alert clears.
    await hangUpCaller(a.token, secondSid);
    secondSid = null;
    await alert.waitFor({ state: 'detached', timeout: STEP_MS });

    // agent1 hangs up: the call leaves the board.
    await a.page.getByTestId('active-call').getByRole('group', { name: 'Call controls' }).getByRole('button', { name: 'Hang up', exact: true }).click();
    await row.waitFor({ state: 'detached', timeout: STEP_MS });
    firstSid = null;
    await screenshot(sup.page, 'supervisor-board-after');
    assert.deepEqual(
      [...a.problems, ...sup.problems].filter((p) => !/401|403/.test(p)),
      [],
      'no page errors',
    );
  } finally {
    await hangUpCaller(a.token, thirdSid);
    await hangUpCaller(a.token, secondSid);
    await hangUpCaller(a.token, firstSid);
    for (const who of [a, sup]) {
      await api('/api/me/status', { token: who.token, method: 'PUT', body: { status: 'offline' } }).catch(() => {});
      await who.context.close().catch(() => {});
    }
  }
});
