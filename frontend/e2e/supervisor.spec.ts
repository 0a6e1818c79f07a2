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
import { api, env, expect, goAvailable, type Json, requireDemoCalls, screenshot, signIn, STEP_MS, test } from './fixtures';

const AGENT = 'agent1@example.com';
const SUPERVISOR = 'agent2@example.com';

test.afterAll(async ({ adminToken, demoCallsUnsupported }) => {
  if (demoCallsUnsupported) return;
  const team = await api('/api/agents', { token: adminToken });
  const sup = team.json?.find((a: Json) => a.email === SUPERVISOR);
  if (sup && sup.role !== 'agent') {
    await api(`/api/agents/${sup.id}`, { token: adminToken, method: 'PATCH', body: { role: 'agent' } }).catch(() => {});
  }
});

async function hangUpCaller(token: string, sid: string) {
  await api(`/api/demo/calls/${encodeURIComponent(sid)}/hangup`, { token, method: 'POST' }).catch(() => {});
}

test('an admin makes a supervisor, who watches the live board while an agent takes calls', async ({
  demoCallsUnsupported,
  adminToken,
  openPage,
  signInAgent,
  simulateCall,
}) => {
  requireDemoCalls(demoCallsUnsupported);
  // The admin gives agent2 the supervisor role on the Agents page.
  const admin = await openPage({ label: 'admin' });
  await admin.page.goto('/');
  await signIn(admin.page, env.adminEmail, env.adminPassword);
  await expect(admin.page.getByRole('heading', { name: 'Dashboard' })).toBeVisible();
  await admin.page.getByRole('link', { name: 'Agents' }).click();
  const team = await api('/api/agents', { token: adminToken });
  const supView = team.json.find((a: Json) => a.email === SUPERVISOR);
  await admin.page.getByRole('button', { name: `Edit ${supView.display_name}` }).click();
  const form = admin.page.getByRole('form', { name: `Edit ${supView.display_name}` });
  await form.getByLabel('Role').selectOption('supervisor');
  await form.getByRole('button', { name: 'Save' }).click();
  await expect(admin.page.getByRole('status').filter({ hasText: `Saved ${supView.display_name}` })).toBeVisible({ timeout: STEP_MS });
  const saved = await api(`/api/agents/${supView.id}`, { token: adminToken });
  expect(saved.json.role).toBe('supervisor');
  await admin.context.close();

  const sup = await signInAgent(SUPERVISOR);
  const a = await signInAgent(AGENT);
  await expect(sup.page.getByTestId('agent-role')).toHaveText('Supervisor', { useInnerText: true });
  // A plain agent has no board, in the menu or from the API.
  await expect(a.page.getByRole('link', { name: 'Board', exact: true })).toHaveCount(0);
  expect((await api('/api/board/calls', { token: a.token })).status).toBe(403);

  await sup.page.getByRole('link', { name: 'Board', exact: true }).click();
  await expect(sup.page.getByRole('heading', { name: 'Live board' })).toBeVisible();
  await expect(sup.page.getByTestId('live-status').filter({ hasText: 'Live' })).toBeVisible({ timeout: STEP_MS });

  // agent1 takes a call; the board follows through live events.
  await goAvailable(a.page, STEP_MS);
  const CALLER = '+15551230801';
  await simulateCall(a.page, CALLER);
  const region = a.page.getByRole('region', { name: 'Incoming call' });
  await expect(region.getByTestId('incoming-caller').filter({ hasText: CALLER })).toBeVisible({ timeout: STEP_MS });
  await region.getByRole('button', { name: 'Accept' }).click();
  const row = sup.page.getByTestId('board-call').filter({ hasText: a.me.display_name });
  await expect(row.and(sup.page.locator('[data-state="talking"]'))).toBeVisible({ timeout: STEP_MS });
  await expect(row).toHaveText(/Talking/, { useInnerText: true });
  const agentRow = sup.page.getByTestId('board-agent').filter({ hasText: a.me.display_name });
  await expect(agentRow.and(sup.page.locator('[data-status="busy"]'))).toBeVisible({ timeout: STEP_MS });
  // The call's clock ticks in the browser.
  const clock = row.locator('td').nth(2);
  const before = await clock.innerText();
  await expect(clock, 'the call clock ticks').not.toHaveText(before, { timeout: 5_000, useInnerText: true });

  // A second caller while agent1 is busy and nobody else is available: the board alerts.
  const CALLER2 = '+15551230802';
  const secondSid = await simulateCall(a.page, CALLER2);
  const alert = sup.page.getByTestId('board-alert');
  await expect(alert).toBeVisible({ timeout: STEP_MS });
  await expect(alert).toHaveText(/waiting and no agent is available/, { useInnerText: true });
  await expect(sup.page.getByTestId('board-queue-entry').filter({ hasText: CALLER2.slice(-4) })).toBeVisible({ timeout: STEP_MS });
  // A third caller; the supervisor moves them ahead of the second.
  const CALLER3 = '+15551230803';
  const thirdSid = await simulateCall(a.page, CALLER3);
  const third = sup.page.getByTestId('board-queue-entry').filter({ hasText: CALLER3.slice(-4) });
  await expect(third).toBeVisible({ timeout: STEP_MS });
  await third.getByRole('button', { name: /to the front$/ }).click();
  const firstInLine = sup.page.getByTestId('board-queue-entry').first();
  await expect(firstInLine, 'the third caller first in the queue').toContainText(CALLER3.slice(-4), { timeout: STEP_MS, useInnerText: true });
  await expect(firstInLine.getByRole('button', { name: /to the front$/ }), 'the first in line has no move button').toHaveCount(0);
  await screenshot(sup.page, 'supervisor-board');
  // The second caller is given to agent1 (on a call): back to the front, offered to them next.
  const secondRow = sup.page.getByTestId('board-queue-entry').filter({ hasText: CALLER2.slice(-4) });
  await secondRow.getByRole('combobox', { name: /^Give .* to$/ }).selectOption({ label: a.me.display_name });
  await secondRow.getByRole('button', { name: 'Give', exact: true }).click();
  await expect(firstInLine, 'the given caller first in the queue').toContainText(CALLER2.slice(-4), { timeout: STEP_MS, useInnerText: true });
  await hangUpCaller(a.token, thirdSid);

  // The waiting caller gives up: the alert clears.
  await hangUpCaller(a.token, secondSid);
  await expect(alert).not.toBeAttached({ timeout: STEP_MS });

  // agent1 hangs up: the call leaves the board.
  await a.page.getByTestId('active-call').getByRole('group', { name: 'Call controls' }).getByRole('button', { name: 'Hang up', exact: true }).click();
  await expect(row).not.toBeAttached({ timeout: STEP_MS });
  await screenshot(sup.page, 'supervisor-board-after');
  expect(
    [...a.problems, ...sup.problems].filter((p) => !/401|403/.test(p)),
    'no page errors',
  ).toEqual([]);
});
