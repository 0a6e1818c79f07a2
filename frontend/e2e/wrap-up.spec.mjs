// After-call work and presence reasons in a real browser (demo mode, the backend's simulator):
//   - wrap-up: an admin turns on a 2-minute wrap-up with a required disposition; the agent takes
//     a call and hangs up, sees the wrap-up countdown, cannot finish before choosing a
//     disposition, extends once, files a disposition with notes, finishes and is available;
//   - away reasons: the agent goes Away for Lunch and the team board says so;
//   - missed-call notice: the agent rejects a call, is set Away and told why, and goes available
//     again from the notice.
// Screenshots land in e2e-artifacts/wrap-up-*.png. The wrap-up settings are put back to off at
// the end, so the other specs see the default.
import { after, before, test } from 'node:test';
import {
  api,
  assert,
  checkA11y,
  demoCallsUnsupported,
  env,
  goAvailable,
  launchBrowser,
  screenshot,
  signInAgent,
  until,
} from './lib.mjs';

const AGENT = 'agent1@example.com';
/** Everything here is simulated and local; allow for a slow debug build on a shared machine. */
const STEP_MS = 30_000;

let browser;
let skipReason = null;
let adminToken = null;

async function adminSignIn() {
  const r = await api('/api/auth/login', { method: 'POST', body: { email: env.adminEmail, password: env.adminPassword } });
  assert.equal(r.status, 200, 'the admin signs in');
  return r.json.token;
}

async function setWrapUp(wrap_up_seconds, require_disposition) {
  const r = await api('/api/wrap-up-settings', {
    token: adminToken,
    method: 'PUT',
    body: { wrap_up_seconds, extension_seconds: 60, require_disposition },
  });
  assert.equal(r.status, 200, `wrap-up settings saved: ${r.text}`);
}

before(async () => {
  skipReason = await demoCallsUnsupported();
  if (skipReason) return;
  browser = await launchBrowser();
  adminToken = await adminSignIn();
});

after(async () => {
  if (adminToken) await setWrapUp(0, false).catch(() => {});
  await browser?.close();
});

async function simulateCall(page, from) {
  await page.getByLabel('Caller number (optional)').fill(from);
  await page.getByRole('button', { name: 'Simulate a customer call' }).click();
  const item = page.getByRole('list', { name: 'Simulated calls' }).getByRole('listitem').filter({ hasText: from });
  await item.waitFor({ timeout: STEP_MS });
  return item.getAttribute('data-call-sid');
}

async function ringing(page, from) {
  const region = page.getByRole('region', { name: 'Incoming call' });
  await region.getByTestId('incoming-caller').filter({ hasText: from }).waitFor({ timeout: STEP_MS });
  return region;
}

async function status(page, label) {
  await page.locator('[aria-label="Your status"] [aria-pressed="true"]', { hasText: label }).waitFor({ timeout: STEP_MS });
}

async function offline(agent) {
  await until(
    'the agent goes offline',
    async () => {
      const r = await api('/api/me/status', { token: agent.token, method: 'PUT', body: { status: 'offline' } });
      return r.status === 200 || r.status === 401;
    },
    STEP_MS,
  ).catch(() => {});
  await agent.context.close().catch(() => {});
}

test('wrap-up with a countdown, a required disposition and notes, then available', async (t) => {
  if (skipReason) {
    t.skip(skipReason);
    return;
  }
  await setWrapUp(120, true);
  const a = await signInAgent(browser, AGENT);
  const CALLER = '+15551230701';
  try {
    await goAvailable(a.page, STEP_MS);
    await simulateCall(a.page, CALLER);
    const region = await ringing(a.page, CALLER);
    await region.getByRole('button', { name: 'Accept' }).click();
    const call = a.page.getByTestId('active-call');
    await call.locator('[data-participant-kind="customer"]').filter({ hasText: 'Talking' }).waitFor({ timeout: STEP_MS });
    const callId = await call.getAttribute('data-call-id');
    // The disposition form is there during the call too.
    await call.getByRole('form', { name: 'Disposition and notes' }).waitFor({ timeout: STEP_MS });
    await screenshot(a.page, 'wrap-up-1-on-the-call');
    await checkA11y(a.page, 'wrap-up-1-on-the-call');

    // The agent hangs up: wrap-up, with its countdown, instead of straight back to available.
    await call.getByRole('group', { name: 'Call controls' }).getByRole('button', { name: 'Hang up', exact: true }).click();
    const wrap = a.page.getByRole('region', { name: 'Wrap-up' });
    await wrap.waitFor({ timeout: STEP_MS });
    const countdown = wrap.getByTestId('wrap-up-countdown');
    const first = await countdown.innerText();
    assert.match(first, /^[12]:\d\d$/, `a countdown under 2 minutes: ${first}`);
    await until('the countdown ticks', async () => (await countdown.innerText()) !== first, 5_000);
    const me = await api('/api/me', { token: a.token });
    assert.equal(me.json.status, 'wrap_up');
    assert.equal(me.json.wrap_up.call_id, callId);
    // Finishing is blocked until a disposition is chosen.
    const finish = wrap.getByRole('button', { name: 'Finish wrap-up' });
    assert.equal(await finish.isDisabled(), true, 'Finish is disabled without the required disposition');
    await wrap.getByTestId('wrap-up-blocked').filter({ hasText: 'Choose a disposition' }).waitFor();
    await screenshot(a.page, 'wrap-up-2-after-call-countdown');
    await checkA11y(a.page, 'wrap-up-2-after-call-countdown');

    // Extend once: the button goes away and the panel says so.
    await wrap.getByRole('button', { name: /^Extend by/ }).click();
    await wrap.getByText('Extended once').waitFor({ timeout: STEP_MS });
    assert.equal(await wrap.getByRole('button', { name: /^Extend by/ }).count(), 0, 'no second extension');

    // Disposition and notes.
    const form = wrap.getByRole('form', { name: 'Disposition and notes' });
    await form.getByLabel('Disposition').selectOption({ label: 'Resolved' });
    await form.getByLabel('Notes').fill('Refund issued.\nNo follow-up needed.');
    await form.getByRole('button', { name: 'Save disposition' }).click();
    await form.getByRole('status').filter({ hasText: 'Saved.' }).waitFor({ timeout: STEP_MS });
    await until('Finish is enabled', async () => !(await finish.isDisabled()), STEP_MS);
    await screenshot(a.page, 'wrap-up-3-disposition-filed');
    await checkA11y(a.page, 'wrap-up-3-disposition-filed');

    await finish.click();
    await status(a.page, 'Available');
    await wrap.waitFor({ state: 'detached', timeout: STEP_MS });
    await screenshot(a.page, 'wrap-up-4-available-again');
    await checkA11y(a.page, 'wrap-up-4-available-again');

    const detail = await api(`/api/calls/${callId}`, { token: a.token });
    assert.equal(detail.status, 200);
    assert.equal(detail.json.disposition, 'resolved');
    assert.equal(detail.json.disposition_detail.notes, 'Refund issued.\nNo follow-up needed.');
    const kinds = detail.json.timeline.map((e) => e.kind);
    for (const k of ['wrap_up_started', 'disposition_set']) assert.ok(kinds.includes(k), `${k} in ${kinds.join(', ')}`);
    // The call's page in history shows it.
    await a.page.goto(`/#/history/${callId}`);
    await a.page.getByTestId('call-disposition').filter({ hasText: 'Resolved' }).waitFor({ timeout: STEP_MS });
    await a.page.getByTestId('call-notes').filter({ hasText: 'Refund issued.' }).waitFor();
    await screenshot(a.page, 'wrap-up-5-call-detail');
    await checkA11y(a.page, 'wrap-up-5-call-detail');
    assert.deepEqual(a.problems, [], 'no page errors');
  } catch (err) {
    await screenshot(a.page, 'wrap-up-failure').catch(() => {});
    throw err;
  } finally {
    await setWrapUp(0, false);
    await offline(a);
  }
});

test('away with a reason, and the missed-call notice after rejecting a call', async (t) => {
  if (skipReason) {
    t.skip(skipReason);
    return;
  }
  const a = await signInAgent(browser, AGENT);
  const CALLER = '+15551230702';
  let callerSid = null;
  try {
    // Away for lunch: the header and the team board say why.
    await a.page.getByLabel('Away reason').selectOption({ label: 'Lunch' });
    await a.page.getByRole('group', { name: 'Your status' }).getByRole('button', { name: 'Away' }).click();
    await status(a.page, 'Away');
    await until('the header shows Lunch', async () => (await a.page.getByTestId('away-reason').inputValue()) === 'lunch', STEP_MS);
    await a.page
      .getByRole('list', { name: 'Team presence' })
      .locator(`[data-agent-id="${a.me.id}"]`, { hasText: 'Lunch' })
      .waitFor({ timeout: STEP_MS });
    await screenshot(a.page, 'wrap-up-6-away-for-lunch');
    await checkA11y(a.page, 'wrap-up-6-away-for-lunch');

    // A call rings and the agent rejects it: set Away by the system, and told why.
    await goAvailable(a.page, STEP_MS);
    callerSid = await simulateCall(a.page, CALLER);
    const region = await ringing(a.page, CALLER);
    await region.getByRole('button', { name: 'Reject' }).click();
    await status(a.page, 'Away');
    const notice = a.page.getByTestId('missed-call-notice');
    await notice.filter({ hasText: `You declined a call from ${CALLER}; you are Away. Go available?` }).waitFor({ timeout: STEP_MS });
    await screenshot(a.page, 'wrap-up-7-missed-call-notice');
    await checkA11y(a.page, 'wrap-up-7-missed-call-notice');
    const me = await api('/api/me', { token: a.token });
    assert.equal(me.json.away_reason, 'declined_call');
    assert.equal(await a.page.getByTestId('away-reason').inputValue(), 'declined_call', 'the header shows the system reason');

    // The caller gives up (else they would ring this agent again); the agent goes available
    // from the notice, which then goes away.
    await api(`/api/demo/calls/${encodeURIComponent(callerSid)}/hangup`, { token: a.token, method: 'POST' });
    callerSid = null;
    await notice.getByRole('button', { name: 'Go available' }).click();
    await status(a.page, 'Available');
    await notice.waitFor({ state: 'detached', timeout: STEP_MS });
    assert.deepEqual(a.problems, [], 'no page errors');
  } catch (err) {
    await screenshot(a.page, 'wrap-up-failure-away').catch(() => {});
    throw err;
  } finally {
    if (callerSid) await api(`/api/demo/calls/${encodeURIComponent(callerSid)}/hangup`, { token: a.token, method: 'POST' }).catch(() => {});
    await offline(a);
  }
});
