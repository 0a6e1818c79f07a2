// The call timeline in words (demo mode, two real browsers): agent 1 answers a simulated call,
// holds and resumes the customer, mutes and unmutes them, warm-transfers to agent 2 and leaves;
// agent 2 hangs up. The call's detail labels each entry from its typed kind (who did what), keeps
// SIDs and sequence numbers behind each entry's "Details" toggle, and, like the history list,
// fits a 390 px phone without sideways scrolling.
// Screenshots land in e2e-artifacts/timeline-*.png.
import { after, before, test } from 'node:test';
import {
  api,
  assert,
  checkA11y,
  demoCallsUnsupported,
  escapeRegExp,
  goAvailable as goAvailableIn,
  launchBrowser,
  screenshot,
  pageWidth,
  signInAgent as signInAgentIn,
  until as untilIn,
  VIEWPORTS,
} from './lib.mjs';

const CALLER = '+15551230042';
const AGENT1 = 'agent1@example.com';
const AGENT2 = 'agent2@example.com';
/** Everything here is simulated and local; allow for a slow debug build under load. */
const STEP_MS = 20_000;

let browser;

before(async () => {
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
});

const signInAgent = (email) => signInAgentIn(browser, email);
const goAvailable = (page) => goAvailableIn(page, STEP_MS);
const until = (description, check, timeoutMs = STEP_MS) => untilIn(description, check, timeoutMs);

/** Clicks a control and waits for the one that replaces it (e.g. Hold -> Resume). */
async function toggle(scope, from, to) {
  await scope.getByRole('button', { name: from }).click();
  await scope.getByRole('button', { name: to }).waitFor({ timeout: STEP_MS });
}

test('the call detail labels hold, mute, the transfer and the hang-up, with raw detail folded away', async (t) => {
  const reason = await demoCallsUnsupported();
  if (reason) {
    t.skip(reason);
    return;
  }

  const a1 = await signInAgent(AGENT1);
  const a2 = await signInAgent(AGENT2);
  const ana = a1.me.display_name;
  const ben = a2.me.display_name;
  try {
    // Agent 1 goes available first, so the router (longest idle first) offers agent 1.
    await goAvailable(a1.page);
    await goAvailable(a2.page);
    await a1.page.getByLabel('Caller number (optional)').fill(CALLER);
    await a1.page.getByRole('button', { name: 'Simulate a customer call' }).click();
    const simulated = a1.page.getByRole('list', { name: 'Simulated calls' }).getByRole('listitem').first();
    await simulated.waitFor();
    const customerSid = await simulated.getAttribute('data-call-sid');
    assert.match(customerSid ?? '', /^CA[0-9a-f]{32}$/, 'the simulator returned the customer call sid');

    const ringing1 = a1.page.getByRole('region', { name: 'Incoming call' });
    await ringing1.getByRole('button', { name: 'Accept' }).click({ timeout: STEP_MS });
    const call1 = a1.page.getByTestId('active-call');
    const customerRow = call1.locator('[data-participant-kind="customer"]');
    await customerRow.filter({ hasText: 'Talking' }).waitFor({ timeout: STEP_MS });
    const callId = await call1.getAttribute('data-call-id');
    assert.ok(callId, 'the active call shows its id');
    await until('agent 1 owns the call', async () => {
      const r = await api('/api/me/call', { token: a1.token });
      return r.json?.call?.owner_agent_id === a1.me.id;
    });

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
    await call1.locator('[data-testid="active-transfer"][data-transfer-status="consulting"]').waitFor({ timeout: STEP_MS });
    const complete = call1.getByTestId('active-transfer').getByRole('button', { name: 'Complete transfer' });
    await until('Complete transfer enabled', () => complete.isEnabled());
    await complete.click();
    await a1.page.getByTestId('no-call').waitFor({ timeout: STEP_MS });

    // Agent 2, now the owner, hangs up.
    const call2 = a2.page.getByTestId('active-call');
    await call2.getByText('Your call').waitFor({ timeout: STEP_MS });
    await call2.getByRole('button', { name: 'Hang up', exact: true }).click();
    await a2.page.getByTestId('no-call').waitFor({ timeout: STEP_MS });
    const ended = await until('the call is completed', async () => {
      const r = await api(`/api/calls/${callId}`, { token: a2.token });
      return r.json?.status === 'completed' ? r.json : null;
    });
    assert.deepEqual(
      ended.timeline.filter((e) => e.kind === 'unknown'),
      [],
      'every entry this build wrote reads back typed',
    );

    // The call's detail, from the history list.
    await a2.page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'History' }).click();
    const row = a2.page.locator(`tr[data-call-id="${callId}"]`);
    await row.waitFor({ timeout: STEP_MS });
    await row.getByRole('link').click();
    await a2.page.getByRole('heading', { name: `Call from ${CALLER}` }).waitFor();
    const timeline = a2.page.getByTestId('timeline');
    const labels = async (kind) =>
      timeline.locator(`li[data-kind="${kind}"] .timeline__label`).allInnerTexts();
    await timeline.locator('li[data-kind="call_ended"]').waitFor();

    assert.deepEqual(await labels('call_received'), [`Call received from ${CALLER}`]);
    assert.deepEqual(await labels('hold'), [`${ana} put the customer on hold`, `${ana} resumed the customer`]);
    assert.deepEqual(await labels('mute'), [`${ana} muted the customer`, `${ana} unmuted the customer`]);
    assert.deepEqual(await labels('transfer_started'), [`${ana} started a warm transfer to ${ben}: ringing`]);
    assert.deepEqual(await labels('transfer_target_joined'), [`Transfer to ${ben}: answered`]);
    assert.deepEqual(await labels('transfer_completed'), [`Transfer to ${ben}: completed`]);
    assert.deepEqual(await labels('hangup_requested'), [`${ben} hung up`]);
    assert.deepEqual(await labels('call_ended'), ['Call ended'], 'an agent hung up, not the customer');
    assert.equal(await timeline.locator('li[data-kind="unknown"]').count(), 0);
    const all = (await timeline.locator('.timeline__label').allInnerTexts()).join('\n');
    assert.doesNotMatch(all, /CA[0-9a-f]{32}|sequence/, 'no SID or sequence number in the labels');
    assert.ok(
      (await labels('conference_event')).includes('Twilio: the customer is on hold'),
      'Twilio\'s hold callback is labelled too',
    );
    await screenshot(a2.page, 'timeline-01-call-detail');
    await checkA11y(a2.page, 'timeline-01-call-detail');

    // The customer's SID and the callback's sequence number are behind the hold callback's
    // "Details" toggle.
    const holdReport = timeline
      .locator('li[data-kind="conference_event"]', { hasText: 'Twilio: the customer is on hold' })
      .first();
    const sid = holdReport.getByText(customerSid, { exact: true });
    assert.equal(await sid.isVisible(), false, 'the SID is folded away');
    await holdReport.getByText('Details', { exact: true }).click();
    await sid.waitFor({ state: 'visible' });
    assert.match(await holdReport.locator('details').innerText(), /sequence\s+\d+/);
    await screenshot(a2.page, 'timeline-02-call-detail-details');
    await checkA11y(a2.page, 'timeline-02-call-detail-details');

    // Phone width: the detail (details still open) and the history list fit 390 px.
    await a2.page.setViewportSize(VIEWPORTS.phone);
    await sid.waitFor({ state: 'visible' });
    const detailWidth = await pageWidth(a2.page);
    assert.ok(detailWidth <= 390, `the call detail is ${detailWidth} px wide at 390 px`);
    await screenshot(a2.page, 'timeline-03-call-detail-390');
    await checkA11y(a2.page, 'timeline-03-call-detail-390');
    await a2.page.getByRole('link', { name: '← Back to history' }).click();
    await row.waitFor({ timeout: STEP_MS });
    const historyWidth = await pageWidth(a2.page);
    assert.ok(historyWidth <= 390, `the history list is ${historyWidth} px wide at 390 px`);
    assert.ok(await row.getByRole('link').isVisible(), 'the call stays reachable at 390 px');
    await screenshot(a2.page, 'timeline-04-history-390');
    await checkA11y(a2.page, 'timeline-04-history-390');

    assert.deepEqual(a1.problems, [], 'no page errors for agent 1');
    assert.deepEqual(a2.problems, [], 'no page errors for agent 2');
  } catch (err) {
    await screenshot(a1.page, 'timeline-failure-agent1').catch(() => {});
    await screenshot(a2.page, 'timeline-failure-agent2').catch(() => {});
    throw err;
  } finally {
    for (const { token } of [a1, a2]) {
      await api('/api/me/status', { token, method: 'PUT', body: { status: 'offline' } }).catch(() => {});
    }
    await a1.context.close();
    await a2.context.close();
  }
});
