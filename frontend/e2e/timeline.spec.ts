// The call timeline in words (demo mode, two real browsers): agent 1 answers a simulated call,
// holds and resumes the customer, mutes and unmutes them, warm-transfers to agent 2 and leaves;
// agent 2 hangs up. The call's detail labels each entry from its typed kind (who did what), keeps
// SIDs and sequence numbers behind each entry's "Details" toggle, and, like the history list,
// fits a 390 px phone without sideways scrolling.
// Screenshots land in e2e-artifacts/timeline-*.png.
import type { Locator } from '@playwright/test';
import {
  api,
  escapeRegExp,
  expect,
  goAvailable,
  type Json,
  pageWidth,
  requireDemoCalls,
  screenshot,
  test,
  until,
  VIEWPORTS,
} from './fixtures';

const CALLER = '+15551230042';
const AGENT1 = 'agent1@example.com';
const AGENT2 = 'agent2@example.com';
/** Everything here is simulated and local; allow for a slow debug build under load. */
const STEP_MS = 20_000;

/** Clicks a control and waits for the one that replaces it (e.g. Hold -> Resume). */
async function toggle(scope: Locator, from: string | RegExp, to: string | RegExp) {
  await scope.getByRole('button', { name: from }).click();
  await expect(scope.getByRole('button', { name: to })).toBeVisible({ timeout: STEP_MS });
}

test('the call detail labels hold, mute, the transfer and the hang-up, with raw detail folded away', async ({
  demoCallsUnsupported,
  signInAgent,
  simulateCall,
  checkA11y,
}) => {
  requireDemoCalls(demoCallsUnsupported);
  const a1 = await signInAgent(AGENT1);
  const a2 = await signInAgent(AGENT2);
  const ana = a1.me.display_name;
  const ben = a2.me.display_name;
  // Agent 1 goes available first, so the router (longest idle first) offers agent 1.
  await goAvailable(a1.page, STEP_MS);
  await goAvailable(a2.page, STEP_MS);
  const customerSid = await simulateCall(a1.page, CALLER);
  expect(customerSid ?? '', 'the simulator returned the customer call sid').toMatch(/^CA[0-9a-f]{32}$/);

  const ringing1 = a1.page.getByRole('region', { name: 'Incoming call' });
  await ringing1.getByRole('button', { name: 'Accept' }).click({ timeout: STEP_MS });
  const call1 = a1.page.getByTestId('active-call');
  const customerRow = call1.locator('[data-participant-kind="customer"]');
  await expect(customerRow.filter({ hasText: 'Talking' })).toBeVisible({ timeout: STEP_MS });
  const callId = await call1.getAttribute('data-call-id');
  expect(callId, 'the active call shows its id').toBeTruthy();
  await until('agent 1 owns the call', async () => {
    const r = await api('/api/me/call', { token: a1.token });
    return r.json?.call?.owner_agent_id === a1.me.id;
  }, STEP_MS);

  // Hold and resume, mute and unmute the customer.
  await toggle(call1, 'Hold customer', 'Resume customer');
  await toggle(call1, 'Resume customer', 'Hold customer');
  await toggle(customerRow, new RegExp(`^Mute ${escapeRegExp(CALLER)}$`), new RegExp(`^Unmute ${escapeRegExp(CALLER)}$`));
  await toggle(customerRow, new RegExp(`^Unmute ${escapeRegExp(CALLER)}$`), new RegExp(`^Mute ${escapeRegExp(CALLER)}$`));

  // Warm transfer to agent 2, who answers; agent 1 completes it and leaves.
  await call1.getByRole('radio', { name: 'Warm' }).check();
  await call1.getByRole('radio', { name: new RegExp(escapeRegExp(ben)) }).check();
  await call1.getByRole('button', { name: 'Start warm transfer' }).click();
  const ringing2 = a2.page.getByRole('region', { name: 'Incoming call' });
  await ringing2.getByRole('button', { name: 'Accept' }).click({ timeout: STEP_MS });
  await expect(call1.locator('[data-testid="active-transfer"][data-transfer-status="consulting"]')).toBeVisible({ timeout: STEP_MS });
  const complete = call1.getByTestId('active-transfer').getByRole('button', { name: 'Complete transfer' });
  await expect(complete, 'Complete transfer enabled').toBeEnabled({ timeout: STEP_MS });
  await complete.click();
  await expect(a1.page.getByTestId('no-call')).toBeVisible({ timeout: STEP_MS });

  // Agent 2, now the owner, hangs up.
  const call2 = a2.page.getByTestId('active-call');
  await expect(call2.getByText('Your call')).toBeVisible({ timeout: STEP_MS });
  await call2.getByRole('button', { name: 'Hang up', exact: true }).click();
  await expect(a2.page.getByTestId('no-call')).toBeVisible({ timeout: STEP_MS });
  const ended = await until('the call is completed', async () => {
    const r = await api(`/api/calls/${callId}`, { token: a2.token });
    return r.json?.status === 'completed' ? r.json : null;
  }, STEP_MS);
  expect(
    ended.timeline.filter((e: Json) => e.kind === 'unknown'),
    'every entry this build wrote reads back typed',
  ).toEqual([]);

  // The call's detail, from the history list.
  await a2.page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'History' }).click();
  const row = a2.page.locator(`tr[data-call-id="${callId}"]`);
  await expect(row).toBeVisible({ timeout: STEP_MS });
  await row.getByRole('link').click();
  await expect(a2.page.getByRole('heading', { name: `Call from ${CALLER}` })).toBeVisible();
  const timeline = a2.page.getByTestId('timeline');
  const labels = (kind: string) => timeline.locator(`li[data-kind="${kind}"] .timeline__label`);
  await expect(timeline.locator('li[data-kind="call_ended"]')).toBeVisible();

  await expect(labels('call_received')).toHaveText([`Call received from ${CALLER}`], { useInnerText: true });
  await expect(labels('hold')).toHaveText([`${ana} put the customer on hold`, `${ana} resumed the customer`], { useInnerText: true });
  await expect(labels('mute')).toHaveText([`${ana} muted the customer`, `${ana} unmuted the customer`], { useInnerText: true });
  await expect(labels('transfer_started')).toHaveText([`${ana} started a warm transfer to ${ben}: ringing`], { useInnerText: true });
  await expect(labels('transfer_target_joined')).toHaveText([`Transfer to ${ben}: answered`], { useInnerText: true });
  await expect(labels('transfer_completed')).toHaveText([`Transfer to ${ben}: completed`], { useInnerText: true });
  await expect(labels('hangup_requested')).toHaveText([`${ben} hung up`], { useInnerText: true });
  await expect(labels('call_ended'), 'an agent hung up, not the customer').toHaveText(['Call ended'], { useInnerText: true });
  await expect(timeline.locator('li[data-kind="unknown"]')).toHaveCount(0);
  const all = (await timeline.locator('.timeline__label').allInnerTexts()).join('\n');
  expect(all, 'no SID or sequence number in the labels').not.toMatch(/CA[0-9a-f]{32}|sequence/);
  expect(await labels('conference_event').allInnerTexts(), "Twilio's hold callback is labelled too").toContain(
    'Twilio: the customer is on hold',
  );
  await screenshot(a2.page, 'timeline-01-call-detail');
  await checkA11y(a2.page, 'timeline-01-call-detail');

  // The customer's SID and the callback's sequence number are behind the hold callback's
  // "Details" toggle.
  const holdReport = timeline.locator('li[data-kind="conference_event"]', { hasText: 'Twilio: the customer is on hold' }).first();
  const sid = holdReport.getByText(customerSid, { exact: true });
  await expect(sid, 'the SID is folded away').toBeHidden();
  await holdReport.getByText('Details', { exact: true }).click();
  await expect(sid).toBeVisible();
  await expect(holdReport.locator('details')).toHaveText(/sequence\s+\d+/, { useInnerText: true });
  await screenshot(a2.page, 'timeline-02-call-detail-details');
  await checkA11y(a2.page, 'timeline-02-call-detail-details');

  // Phone width: the detail (details still open) and the history list fit 390 px.
  await a2.page.setViewportSize(VIEWPORTS.phone);
  await expect(sid).toBeVisible();
  const detailWidth = await pageWidth(a2.page);
  expect(detailWidth, `the call detail is ${detailWidth} px wide at 390 px`).toBeLessThanOrEqual(390);
  await screenshot(a2.page, 'timeline-03-call-detail-390');
  await checkA11y(a2.page, 'timeline-03-call-detail-390');
  await a2.page.getByRole('link', { name: '← Back to history' }).click();
  await expect(row).toBeVisible({ timeout: STEP_MS });
  const historyWidth = await pageWidth(a2.page);
  expect(historyWidth, `the history list is ${historyWidth} px wide at 390 px`).toBeLessThanOrEqual(390);
  await expect(row.getByRole('link'), 'the call stays reachable at 390 px').toBeVisible();
  await screenshot(a2.page, 'timeline-04-history-390');
  await checkA11y(a2.page, 'timeline-04-history-390');

  expect(a1.problems, 'no page errors for agent 1').toEqual([]);
  expect(a2.problems, 'no page errors for agent 2').toEqual([]);
});
