// A supervisor listens to, whispers on, barges into and takes over an agent's call from the live
// board, in a real browser (demo mode, the backend's simulator):
//   - agent1 takes a simulated call; agent2 (made a supervisor through the API) opens the board
//     and clicks Listen: their simulated phone is rung into the call and answers by itself (no
//     ringing prompt), and the board says who is listening;
//   - agent1's call panel says the supervisor is listening, then coaching them (whisper), then in
//     the call (barge);
//   - the supervisor takes the call over: it is theirs, and agent1's call is over.
// Screenshots: e2e-artifacts/supervisor-coached-call.png (agent1's view while coached),
// supervisor-monitoring-board.png and supervisor-took-over.png. agent2 is made an agent again at
// the end, so the other specs see the demo team as they expect.
import { api, expect, goAvailable, type Json, requireDemoCalls, ringing, screenshot, STEP_MS, test } from './fixtures';

const AGENT = 'agent1@example.com';
const SUPERVISOR = 'agent2@example.com';
const CALLER = '+15551230901';

async function setRole(adminToken: string, role: 'agent' | 'supervisor') {
  const team = await api('/api/agents', { token: adminToken });
  const sup = team.json?.find((a: Json) => a.email === SUPERVISOR);
  if (!sup) throw new Error(`${SUPERVISOR} is not on the team`);
  return api(`/api/agents/${sup.id}`, { token: adminToken, method: 'PATCH', body: { role } });
}

test.afterAll(async ({ adminToken, demoCallsUnsupported }) => {
  if (!demoCallsUnsupported) await setRole(adminToken, 'agent').catch(() => {});
});

test('a supervisor listens, whispers, barges and takes over from the board; the agent sees it', async ({
  demoCallsUnsupported,
  adminToken,
  signInAgent,
  simulateCall,
  checkA11y,
}) => {
  requireDemoCalls(demoCallsUnsupported);
  expect((await setRole(adminToken, 'supervisor')).status, 'agent2 is made a supervisor').toBe(200);
  const a = await signInAgent(AGENT);
  const sup = await signInAgent(SUPERVISOR);

  // agent1 takes a simulated call.
  await goAvailable(a.page);
  await simulateCall(a.page, CALLER);
  const incoming = await ringing(a.page, CALLER);
  await incoming.getByRole('button', { name: 'Accept' }).click();
  await expect(a.page.getByTestId('active-call')).toBeVisible({ timeout: STEP_MS });

  // The supervisor opens the board and listens.
  await sup.page.getByRole('link', { name: 'Board', exact: true }).click();
  await expect(sup.page.getByRole('heading', { name: 'Live board' })).toBeVisible();
  const row = sup.page.getByTestId('board-call').filter({ hasText: a.me.display_name });
  await expect(row.and(sup.page.locator('[data-state="talking"]'))).toBeVisible({ timeout: STEP_MS });
  const callId = await row.getAttribute('data-call-id');
  // Found by id from here on: its owner changes when the supervisor takes it over.
  const byId = sup.page.locator(`[data-testid="board-call"][data-call-id="${callId}"]`);
  await row.getByRole('button', { name: /^Listen on the call from/ }).click();
  const monitors = byId.getByTestId('board-call-monitors');
  await expect(monitors).toContainText(`${sup.me.display_name}: Listening`, { timeout: STEP_MS });
  // Their phone answered by itself: no ringing prompt on the supervisor's page.
  await expect(sup.page.getByRole('region', { name: 'Incoming call' }), 'no ringing prompt for the listening leg').toHaveCount(0);

  const banner = a.page.getByTestId('supervisor-banner');
  await expect(banner).toContainText(`${sup.me.display_name} is listening`, { timeout: STEP_MS });

  // Whisper: only agent1 hears the supervisor.
  await byId.getByRole('button', { name: /^Whisper on the call from/ }).click();
  await expect(monitors).toContainText('Whispering', { timeout: STEP_MS });
  await expect(banner).toContainText(`${sup.me.display_name} is coaching you`, { timeout: STEP_MS });
  await checkA11y(a.page, 'monitoring-01-agent-coached');
  await screenshot(a.page, 'supervisor-coached-call');

  // Barge: everyone hears them.
  await byId.getByRole('button', { name: /^Barge on the call from/ }).click();
  await expect(monitors).toContainText('Barged in', { timeout: STEP_MS });
  await expect(banner).toContainText(`${sup.me.display_name} joined the call`, { timeout: STEP_MS });
  // The supervisor's own row says what they are doing, whatever their presence says.
  const supRow = sup.page.locator(`[data-testid="board-agent"][data-agent-id="${sup.me.id}"]`);
  await expect(supRow.locator('td').nth(1)).toContainText('Barged in', { timeout: STEP_MS });
  await checkA11y(sup.page, 'monitoring-02-board');
  await screenshot(sup.page, 'supervisor-monitoring-board');

  // The call's timeline says so.
  const detail = await api(`/api/calls/${callId}`, { token: sup.token });
  const kinds = detail.json.timeline.map((e: Json) => e.kind);
  expect(kinds).toEqual(expect.arrayContaining(['monitor_started', 'monitor_mode_changed']));

  // Take over: the call is the supervisor's; agent1's call is over for them.
  await byId.getByRole('button', { name: /^Take over the call from/ }).click();
  await expect(byId.locator('td').nth(3)).toContainText(sup.me.display_name, { timeout: STEP_MS });
  await expect(a.page.getByTestId('active-call')).not.toBeAttached({ timeout: STEP_MS });
  const agentNow = await api('/api/me', { token: a.token });
  expect(['wrap_up', 'available'], `agent1 after the take-over: ${agentNow.json.status}`).toContain(agentNow.json.status);
  await screenshot(sup.page, 'supervisor-took-over');
  expect([...a.problems, ...sup.problems].filter((p) => !/401|403/.test(p)), 'no page errors').toEqual([]);
});
