// After-call work and presence reasons in a real browser (demo mode, the backend's simulator):
//   - wrap-up: an admin turns on a 2-minute wrap-up with a required disposition; the agent takes
//     a call and hangs up, sees the wrap-up countdown, cannot finish before choosing a
//     disposition, extends once, files a disposition with notes, finishes and is available;
//   - away reasons: the agent goes Away for Lunch and the team board says so;
//   - missed-call notice: the agent rejects a call, is set Away and told why, and goes available
//     again from the notice.
// Screenshots land in e2e-artifacts/wrap-up-*.png. The wrap-up settings are put back to off after
// each test, so the other specs see the default.
import { api, expect, goAvailable, requireDemoCalls, ringing, screenshot, status, STEP_MS, test } from './fixtures';

const AGENT = 'agent1@example.com';

async function setWrapUp(adminToken: string, wrap_up_seconds: number, require_disposition: boolean) {
  const r = await api('/api/wrap-up-settings', {
    token: adminToken,
    method: 'PUT',
    body: { wrap_up_seconds, extension_seconds: 60, require_disposition },
  });
  expect(r.status, `wrap-up settings saved: ${r.text}`).toBe(200);
}

test.beforeEach(({ demoCallsUnsupported }) => requireDemoCalls(demoCallsUnsupported));

test.afterEach(async ({ adminToken, demoCallsUnsupported }) => {
  if (!demoCallsUnsupported) await setWrapUp(adminToken, 0, false);
});

test('wrap-up with a countdown, a required disposition and notes, then available', async ({
  adminToken,
  signInAgent,
  simulateCall,
  checkA11y,
}) => {
  await setWrapUp(adminToken, 120, true);
  const a = await signInAgent(AGENT);
  const CALLER = '+15551230701';
  await goAvailable(a.page, STEP_MS);
  await simulateCall(a.page, CALLER);
  const region = await ringing(a.page, CALLER);
  await region.getByRole('button', { name: 'Accept' }).click();
  const call = a.page.getByTestId('active-call');
  await expect(call.locator('[data-participant-kind="customer"]').filter({ hasText: 'Talking' })).toBeVisible({ timeout: STEP_MS });
  const callId = await call.getAttribute('data-call-id');
  // The disposition form is there during the call too.
  await expect(call.getByRole('form', { name: 'Disposition and notes' })).toBeVisible({ timeout: STEP_MS });
  await screenshot(a.page, 'wrap-up-1-on-the-call');
  await checkA11y(a.page, 'wrap-up-1-on-the-call');

  // The agent hangs up: wrap-up, with its countdown, instead of straight back to available.
  await call.getByRole('group', { name: 'Call controls' }).getByRole('button', { name: 'Hang up', exact: true }).click();
  const wrap = a.page.getByRole('region', { name: 'Wrap-up' });
  await expect(wrap).toBeVisible({ timeout: STEP_MS });
  const countdown = wrap.getByTestId('wrap-up-countdown');
  const first = await countdown.innerText();
  expect(first, `a countdown under 2 minutes: ${first}`).toMatch(/^[12]:\d\d$/);
  await expect(countdown, 'the countdown ticks').not.toHaveText(first, { timeout: 5_000, useInnerText: true });
  const me = await api('/api/me', { token: a.token });
  expect(me.json.status).toBe('wrap_up');
  expect(me.json.wrap_up.call_id).toBe(callId);
  // Finishing is blocked until a disposition is chosen.
  const finish = wrap.getByRole('button', { name: 'Finish wrap-up' });
  await expect(finish, 'Finish is disabled without the required disposition').toBeDisabled();
  await expect(wrap.getByTestId('wrap-up-blocked').filter({ hasText: 'Choose a disposition' })).toBeVisible();
  await screenshot(a.page, 'wrap-up-2-after-call-countdown');
  await checkA11y(a.page, 'wrap-up-2-after-call-countdown');

  // Extend once: the button goes away and the panel says so.
  await wrap.getByRole('button', { name: /^Extend by/ }).click();
  await expect(wrap.getByText('Extended once')).toBeVisible({ timeout: STEP_MS });
  await expect(wrap.getByRole('button', { name: /^Extend by/ }), 'no second extension').toHaveCount(0);

  // Disposition and notes.
  const form = wrap.getByRole('form', { name: 'Disposition and notes' });
  await form.getByLabel('Disposition').selectOption({ label: 'Resolved' });
  await form.getByLabel('Notes').fill('Refund issued.\nNo follow-up needed.');
  await form.getByRole('button', { name: 'Save disposition' }).click();
  await expect(form.getByRole('status').filter({ hasText: 'Saved.' })).toBeVisible({ timeout: STEP_MS });
  await expect(finish, 'Finish is enabled').toBeEnabled({ timeout: STEP_MS });
  await screenshot(a.page, 'wrap-up-3-disposition-filed');
  await checkA11y(a.page, 'wrap-up-3-disposition-filed');

  await finish.click();
  await status(a.page, 'Available');
  await expect(wrap).not.toBeAttached({ timeout: STEP_MS });
  await screenshot(a.page, 'wrap-up-4-available-again');
  await checkA11y(a.page, 'wrap-up-4-available-again');

  const detail = await api(`/api/calls/${callId}`, { token: a.token });
  expect(detail.status).toBe(200);
  expect(detail.json.disposition).toBe('resolved');
  expect(detail.json.disposition_detail.notes).toBe('Refund issued.\nNo follow-up needed.');
  const kinds = detail.json.timeline.map((e: { kind: string }) => e.kind);
  for (const k of ['wrap_up_started', 'disposition_set']) expect(kinds, `${k} in ${kinds.join(', ')}`).toContain(k);
  // The call's page in history shows it.
  await a.page.goto(`/#/history/${callId}`);
  await expect(a.page.getByTestId('call-disposition').filter({ hasText: 'Resolved' })).toBeVisible({ timeout: STEP_MS });
  await expect(a.page.getByTestId('call-notes').filter({ hasText: 'Refund issued.' })).toBeVisible();
  await screenshot(a.page, 'wrap-up-5-call-detail');
  await checkA11y(a.page, 'wrap-up-5-call-detail');
  expect(a.problems, 'no page errors').toEqual([]);
});

test('away with a reason, and the missed-call notice after rejecting a call', async ({
  signInAgent,
  simulateCall,
  checkA11y,
}) => {
  const a = await signInAgent(AGENT);
  const CALLER = '+15551230702';
  // Away for lunch: the header and the team board say why.
  await a.page.getByLabel('Away reason').selectOption({ label: 'Lunch' });
  await a.page.getByRole('group', { name: 'Your status' }).getByRole('button', { name: 'Away' }).click();
  await status(a.page, 'Away');
  await expect(a.page.getByTestId('away-reason'), 'the header shows Lunch').toHaveValue('lunch', { timeout: STEP_MS });
  await expect(
    a.page.getByRole('list', { name: 'Team presence' }).locator(`[data-agent-id="${a.me.id}"]`, { hasText: 'Lunch' }),
  ).toBeVisible({ timeout: STEP_MS });
  await screenshot(a.page, 'wrap-up-6-away-for-lunch');
  await checkA11y(a.page, 'wrap-up-6-away-for-lunch');

  // A call rings and the agent rejects it: set Away by the system, and told why.
  await goAvailable(a.page, STEP_MS);
  const callerSid = await simulateCall(a.page, CALLER);
  const region = await ringing(a.page, CALLER);
  await region.getByRole('button', { name: 'Reject' }).click();
  await status(a.page, 'Away');
  const notice = a.page.getByTestId('missed-call-notice');
  await expect(
    notice.filter({ hasText: `You declined a call from ${CALLER}; you are Away. Go available?` }),
  ).toBeVisible({ timeout: STEP_MS });
  await screenshot(a.page, 'wrap-up-7-missed-call-notice');
  await checkA11y(a.page, 'wrap-up-7-missed-call-notice');
  const me = await api('/api/me', { token: a.token });
  expect(me.json.away_reason).toBe('declined_call');
  await expect(a.page.getByTestId('away-reason'), 'the header shows the system reason').toHaveValue('declined_call');

  // The caller gives up (else they would ring this agent again); the agent goes available
  // from the notice, which then goes away.
  await api(`/api/demo/calls/${encodeURIComponent(callerSid)}/hangup`, { token: a.token, method: 'POST' });
  await notice.getByRole('button', { name: 'Go available' }).click();
  await status(a.page, 'Available');
  await expect(notice).not.toBeAttached({ timeout: STEP_MS });
  expect(a.problems, 'no page errors').toEqual([]);
});
