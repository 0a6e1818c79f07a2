// A supervisor listens to, whispers on, barges into and takes over an agent's call from the live
// board, in a real browser (demo mode, the backend's simulator):
//   - agent1 takes a simulated call; agent2 (made a supervisor through the API) opens the board
//     and clicks Listen: their simulated phone is rung into the call and answers by itself (no
//     ringing prompt), and the board says who is listening;
//   - agent1's call panel says the supervisor is listening, then coaching them (whisper), then in
//     the call (barge);
//   - the supervisor takes the call over: it is theirs, and agent1's call is over.
// Screenshots: e2e-artifacts/supervisor-coached-call.png (agent1's view while coached) and
// supervisor-monitoring-board.png. agent2 is made an agent again at the end.
import { after, before, test } from 'node:test';
import { api, assert, checkA11y, demoCallsUnsupported, env, goAvailable, launchBrowser, screenshot, signInAgent } from './lib.mjs';

const AGENT = 'agent1@example.com';
const SUPERVISOR = 'agent2@example.com';
const STEP_MS = 30_000;

let browser;
let skipReason = null;
let adminToken = null;
let supId = null;

before(async () => {
  skipReason = await demoCallsUnsupported();
  if (skipReason) return;
  browser = await launchBrowser();
  const r = await api('/api/auth/login', { method: 'POST', body: { email: env.adminEmail, password: env.adminPassword } });
  assert.equal(r.status, 200, 'the admin signs in');
  adminToken = r.json.token;
  const team = await api('/api/agents', { token: adminToken });
  supId = team.json.find((a) => a.email === SUPERVISOR).id;
  const made = await api(`/api/agents/${supId}`, { token: adminToken, method: 'PATCH', body: { role: 'supervisor' } });
  assert.equal(made.status, 200, 'agent2 is made a supervisor');
});

after(async () => {
  if (adminToken && supId) {
    await api(`/api/agents/${supId}`, { token: adminToken, method: 'PATCH', body: { role: 'agent' } }).catch(() => {});
  }
  await browser?.close();
});

test('a supervisor listens, whispers, barges and takes over from the board; the agent sees it', async (t) => {
  if (skipReason) {
    t.skip(skipReason);
    return;
  }
  const a = await signInAgent(browser, AGENT);
  const sup = await signInAgent(browser, SUPERVISOR);
  let customerSid = null;
  try {
    // agent1 takes a simulated call.
    await goAvailable(a.page, STEP_MS);
    const CALLER = '+15551230901';
    await a.page.getByLabel('Caller number (optional)').fill(CALLER);
    await a.page.getByRole('button', { name: 'Simulate a customer call' }).click();
    const item = a.page.getByRole('list', { name: 'Simulated calls' }).getByRole('listitem').filter({ hasText: CALLER });
    await item.waitFor({ timeout: STEP_MS });
    customerSid = await item.getAttribute('data-call-sid');
    const incoming = a.page.getByRole('region', { name: 'Incoming call' });
    await incoming.getByRole('button', { name: 'Accept' }).click({ timeout: STEP_MS });
    await a.page.getByTestId('active-call').waitFor({ timeout: STEP_MS });

    // The supervisor opens the board and listens.
    await sup.page.getByRole('link', { name: 'Board', exact: true }).click();
    await sup.page.getByRole('heading', { name: 'Live board' }).waitFor();
    const row = sup.page.getByTestId('board-call').filter({ hasText: a.me.display_name });
    await row.and(sup.page.locator('[data-state="talking"]')).waitFor({ timeout: STEP_MS });
    const callId = await row.getAttribute('data-call-id');
    // Found by id from here on: its owner changes when the supervisor takes it over.
    const byId = sup.page.locator(`[data-testid="board-call"][data-call-id="${callId}"]`);
    await row.getByRole('button', { name: /^Listen on the call from/ }).click();
    const monitors = row.getByTestId('board-call-monitors');
    await monitors.filter({ hasText: `${sup.me.display_name}: Listening` }).waitFor({ timeout: STEP_MS });
    // Their phone answered by itself: no ringing prompt on the supervisor's page.
    assert.equal(await sup.page.getByRole('region', { name: 'Incoming call' }).count(), 0, 'no ringing prompt for the listening leg');

    const banner = a.page.getByTestId('supervisor-banner');
    await banner.filter({ hasText: `${sup.me.display_name} is listening` }).waitFor({ timeout: STEP_MS });

    // Whisper: only agent1 hears the supervisor.
    await row.getByRole('button', { name: /^Whisper on the call from/ }).click();
    await monitors.filter({ hasText: 'Whispering' }).waitFor({ timeout: STEP_MS });
    await banner.filter({ hasText: `${sup.me.display_name} is coaching you` }).waitFor({ timeout: STEP_MS });
    await checkA11y(a.page, 'monitoring-01-agent-coached');
    await screenshot(a.page, 'supervisor-coached-call');

    // Barge: everyone hears them.
    await row.getByRole('button', { name: /^Barge on the call from/ }).click();
    await monitors.filter({ hasText: 'Barged in' }).waitFor({ timeout: STEP_MS });
    await banner.filter({ hasText: `${sup.me.display_name} joined the call` }).waitFor({ timeout: STEP_MS });
    await checkA11y(sup.page, 'monitoring-02-board');
    await screenshot(sup.page, 'supervisor-monitoring-board');

    // The call's timeline says so.
    const detail = await api(`/api/calls/${callId}`, { token: sup.token });
    const kinds = detail.json.timeline.map((e) => e.kind);
    for (const kind of ['monitor_started', 'monitor_mode_changed']) assert.ok(kinds.includes(kind), `${kind} in ${kinds}`);

    // Take over: the call is the supervisor's; agent1's call is over for them.
    await byId.getByRole('button', { name: /^Take over the call from/ }).click();
    await byId.locator('td').nth(3).filter({ hasText: sup.me.display_name }).waitFor({ timeout: STEP_MS });
    await a.page.getByTestId('active-call').waitFor({ state: 'detached', timeout: STEP_MS });
    const agentNow = await api('/api/me', { token: a.token });
    assert.ok(['wrap_up', 'available'].includes(agentNow.json.status), `agent1 after the take-over: ${agentNow.json.status}`);
    await screenshot(sup.page, 'supervisor-took-over');
    assert.deepEqual(
      [...a.problems, ...sup.problems].filter((p) => !/401|403/.test(p)),
      [],
      'no page errors',
    );
  } finally {
    if (customerSid) await api(`/api/demo/calls/${encodeURIComponent(customerSid)}/hangup`, { token: a.token, method: 'POST' }).catch(() => {});
    for (const who of [a, sup]) {
      await api('/api/me/status', { token: who.token, method: 'PUT', body: { status: 'offline' } }).catch(() => {});
      await who.context.close().catch(() => {});
    }
  }
});
