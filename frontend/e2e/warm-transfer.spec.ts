// The seed's story in two real browsers (demo mode, the backend's Twilio simulator):
// agent 1 and agent 2 sign in and go available; a simulated customer rings agent 1, who answers,
// holds the customer and warm-transfers to agent 2 (picked from the live team list); agent 2
// answers; agent 1 sees them connected and completes the transfer (leaves); agent 2 owns the call;
// the customer hangs up; the history shows the call with its transfer in the timeline.
// A screenshot per step lands in e2e-artifacts/wt-*.png.
import { api, escapeRegExp, expect, goAvailable, type Json, requireDemoCalls, screenshot, test, until, VIEWPORTS } from './fixtures';

const CALLER = '+15551230001';
const AGENT1 = 'agent1@example.com';
const AGENT2 = 'agent2@example.com';
/** Everything here is simulated and local; allow for a slow debug build under load. */
const STEP_MS = 20_000;

test('warm transfer from agent 1 to agent 2, in two browsers', async ({
  demoCallsUnsupported,
  signInAgent,
  simulateCall,
  checkA11y,
}) => {
  requireDemoCalls(demoCallsUnsupported);
  const a1 = await signInAgent(AGENT1);
  const a2 = await signInAgent(AGENT2);

  // 1. Both go available: agent 1 first, so the router (longest idle first) offers agent 1.
  await goAvailable(a1.page, STEP_MS);
  await goAvailable(a2.page, STEP_MS);
  // Agent 1 sees agent 2 available in the live team list, without a reload.
  const team1 = a1.page.getByRole('list', { name: 'Team presence' });
  await expect(team1.locator(`[data-agent-id="${a2.me.id}"]`, { hasText: 'Available' })).toBeVisible({ timeout: STEP_MS });
  await screenshot(a1.page, 'wt-01-agent1-available');
  await checkA11y(a1.page, 'wt-01-agent1-available');
  await screenshot(a2.page, 'wt-01-agent2-available');
  await checkA11y(a2.page, 'wt-01-agent2-available');

  // 2. A simulated customer calls (demo control in agent 1's page); agent 1's browser rings.
  const customerSid = await simulateCall(a1.page, CALLER);
  expect(customerSid, 'the simulator returned the customer call sid').toBeTruthy();

  const ringing1 = a1.page.getByRole('region', { name: 'Incoming call' });
  await expect(ringing1).toBeVisible({ timeout: STEP_MS });
  await expect(ringing1.getByTestId('incoming-caller').filter({ hasText: CALLER })).toBeVisible({ timeout: STEP_MS });
  await expect(a1.page).toHaveTitle(/Incoming call/);
  await screenshot(a1.page, 'wt-02-agent1-ringing');
  await checkA11y(a1.page, 'wt-02-agent1-ringing');

  // 3. Agent 1 accepts.
  await ringing1.getByRole('button', { name: 'Accept' }).click();
  const call1 = a1.page.getByTestId('active-call');
  await expect(call1).toBeVisible({ timeout: STEP_MS });
  await expect(call1.getByTestId('call-caller').filter({ hasText: CALLER })).toBeVisible();
  const customerRow1 = call1.locator('[data-participant-kind="customer"]');
  await expect(customerRow1.filter({ hasText: 'Talking' })).toBeVisible({ timeout: STEP_MS });
  const callId = await call1.getAttribute('data-call-id');
  expect(callId, 'the active call shows its id').toBeTruthy();
  // The page shows the call as soon as it is answered; ownership follows the conference's
  // join callback a moment later.
  const mine1 = await until('agent 1 owns the call', async () => {
    const r = await api('/api/me/call', { token: a1.token });
    return r.json?.call?.owner_agent_id === a1.me.id ? r : null;
  }, STEP_MS);
  expect(mine1.json.call?.id, 'GET /api/me/call agrees with the page').toBe(callId);
  await screenshot(a1.page, 'wt-03-agent1-connected');
  await checkA11y(a1.page, 'wt-03-agent1-connected');

  // 4. Agent 1 holds the customer.
  await call1.getByRole('button', { name: 'Hold customer' }).click();
  await expect(call1.getByRole('button', { name: 'Resume customer' })).toBeVisible({ timeout: STEP_MS });
  await expect(customerRow1.filter({ hasText: 'On hold' })).toBeVisible({ timeout: STEP_MS });
  await screenshot(a1.page, 'wt-04-agent1-customer-on-hold');
  await checkA11y(a1.page, 'wt-04-agent1-customer-on-hold');

  // 5. Warm transfer to agent 2, picked from the live list.
  await call1.getByRole('radio', { name: 'Warm' }).check();
  const target = call1.getByRole('radio', { name: new RegExp(escapeRegExp(a2.me.display_name)) });
  await target.check();
  await call1.getByRole('button', { name: 'Start warm transfer' }).click();
  const transfer1 = call1.getByTestId('active-transfer');
  await expect(transfer1).toBeVisible({ timeout: STEP_MS });
  await expect(transfer1).toHaveText(new RegExp(`Warm transfer to ${escapeRegExp(a2.me.display_name)}`), { useInnerText: true });
  await screenshot(a1.page, 'wt-05-agent1-transfer-dialing');
  await checkA11y(a1.page, 'wt-05-agent1-transfer-dialing');

  // 6. Agent 2's browser rings.
  const ringing2 = a2.page.getByRole('region', { name: 'Incoming call' });
  await expect(ringing2).toBeVisible({ timeout: STEP_MS });
  await expect(ringing2.getByTestId('incoming-caller').filter({ hasText: CALLER })).toBeVisible({ timeout: STEP_MS });
  await screenshot(a2.page, 'wt-06-agent2-ringing');
  await checkA11y(a2.page, 'wt-06-agent2-ringing');

  // 7. Agent 2 accepts; agent 1 sees them connected and the transfer consulting.
  await ringing2.getByRole('button', { name: 'Accept' }).click();
  const call2 = a2.page.getByTestId('active-call');
  await expect(call2).toBeVisible({ timeout: STEP_MS });
  await expect(call1.locator(`[data-agent-id="${a2.me.id}"][data-participant-status="connected"]`)).toBeVisible({ timeout: STEP_MS });
  await expect(call1.locator('[data-testid="active-transfer"][data-transfer-status="consulting"]')).toBeVisible({ timeout: STEP_MS });
  const complete = transfer1.getByRole('button', { name: 'Complete transfer' });
  await expect(complete, 'Complete transfer enabled').toBeEnabled({ timeout: STEP_MS });
  await screenshot(a1.page, 'wt-07-agent1-consulting');
  await checkA11y(a1.page, 'wt-07-agent1-consulting');
  await screenshot(a2.page, 'wt-07-agent2-consulting');
  await checkA11y(a2.page, 'wt-07-agent2-consulting');

  // 8. Agent 1 completes the transfer (and leaves).
  await complete.click();
  await expect(a1.page.getByTestId('no-call')).toBeVisible({ timeout: STEP_MS });
  await expect(
    a1.page.getByTestId('last-call').filter({ hasText: `You handed the call from ${CALLER} over to ${a2.me.display_name}` }),
  ).toBeVisible({ timeout: STEP_MS });
  // Agent 2 now has the call, with the customer talking (off hold) and agent 1 gone.
  await expect(call2.getByText('Your call')).toBeVisible({ timeout: STEP_MS });
  const customerRow2 = call2.locator('[data-participant-kind="customer"]');
  await expect(customerRow2.filter({ hasText: 'Talking' })).toBeVisible({ timeout: STEP_MS });
  const mine2 = await until('agent 2 owns the call', async () => {
    const r = await api('/api/me/call', { token: a2.token });
    return r.json?.call?.owner_agent_id === a2.me.id ? r.json.call : null;
  }, STEP_MS);
  expect(mine2.id).toBe(callId);
  const agent1Legs = mine2.participants.filter((p: Json) => p.agent_id === a1.me.id);
  expect(
    agent1Legs.length > 0 && agent1Legs.every((p: Json) => p.status !== 'connected'),
    'agent 1 left the call',
  ).toBe(true);
  const after1 = await until('agent 1 has no call', async () => {
    const r = await api('/api/me/call', { token: a1.token });
    return r.status === 200 && !r.json.call ? r : null;
  }, STEP_MS);
  expect(after1).toBeTruthy();
  const me1 = await api('/api/me', { token: a1.token });
  expect(['available', 'wrap_up'], `agent 1 is free again (${me1.json.status})`).toContain(me1.json.status);
  await screenshot(a1.page, 'wt-08-agent1-idle');
  await checkA11y(a1.page, 'wt-08-agent1-idle');
  await screenshot(a2.page, 'wt-08-agent2-owns-call');
  await checkA11y(a2.page, 'wt-08-agent2-owns-call');
  await a2.page.setViewportSize(VIEWPORTS.tablet);
  await screenshot(a2.page, 'wt-08-agent2-owns-call-768');
  await checkA11y(a2.page, 'wt-08-agent2-owns-call-768');
  await a2.page.setViewportSize(VIEWPORTS.desktop);

  // 9. The customer hangs up (demo control, as the customer).
  await a1.page.getByRole('button', { name: `Hang up as customer (${CALLER})` }).click();
  await expect(a2.page.getByTestId('no-call')).toBeVisible({ timeout: STEP_MS });
  const ended = await until('the call is completed', async () => {
    const r = await api(`/api/calls/${callId}`, { token: a2.token });
    return r.json?.status === 'completed' ? r.json : null;
  }, STEP_MS);
  expect(ended.ended_at, 'the call has an end time').toBeTruthy();
  expect(ended.customer_call_sid, "the call is the simulated customer's").toBe(customerSid);
  await screenshot(a2.page, 'wt-09-agent2-call-ended');
  await checkA11y(a2.page, 'wt-09-agent2-call-ended');
  // When the customer hangs up on agent 2, the call simply ends with agent 2 as its owner; it
  // is not put back in the queue and nobody is rung again.
  await test.step('the customer hanging up ends the call with agent 2 as owner (no re-queue)', () => {
    const kinds: string[] = ended.timeline.map((e: Json) => e.kind);
    const completedAt = kinds.lastIndexOf('transfer_completed');
    expect(ended.owner_agent_id, 'agent 2 stays the owner').toBe(a2.me.id);
    expect(
      kinds.slice(completedAt).filter((k) => k === 'requeued' || k === 'agent_ringing'),
      `no re-queue or new ringing after the transfer: ${kinds.slice(completedAt).join(', ')}`,
    ).toEqual([]);
  });

  // 10. History: the call is listed; its detail shows the warm transfer and the timeline.
  await a2.page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'History' }).click();
  const row = a2.page.locator(`tr[data-call-id="${callId}"]`);
  await expect(row).toBeVisible({ timeout: STEP_MS });
  await expect(row).toHaveText(/Completed/, { useInnerText: true });
  await screenshot(a2.page, 'wt-10-history');
  await checkA11y(a2.page, 'wt-10-history');
  await row.getByRole('link').click();
  await expect(a2.page.getByRole('heading', { name: `Call from ${CALLER}` })).toBeVisible();
  const transfers = a2.page.getByTestId('transfers');
  await expect(transfers).toBeVisible();
  await expect(transfers).toHaveText(/Warm[\s\S]*Completed/, { useInnerText: true });
  const timeline = a2.page.getByTestId('timeline');
  await expect(timeline.locator('[data-kind="transfer_started"]')).toBeVisible();
  await expect(timeline.locator('[data-kind="transfer_completed"]')).toBeVisible();
  const kinds = await timeline.locator('li[data-kind]').evaluateAll((items) => items.map((li) => (li as HTMLElement).dataset.kind));
  expect(kinds.indexOf('transfer_started'), `timeline order: ${kinds.join(', ')}`).toBeLessThan(kinds.indexOf('transfer_completed'));
  await screenshot(a2.page, 'wt-11-call-detail');
  await checkA11y(a2.page, 'wt-11-call-detail');

  expect(a1.problems, 'no page errors for agent 1').toEqual([]);
  expect(a2.problems, 'no page errors for agent 2').toEqual([]);
});
