// A caller is never dropped (demo mode, the backend's Twilio simulator, real browsers):
//   - back-to-back: the next queued caller rings the moment the agent hangs up on the last one;
//   - ring-out: an agent who lets a call ring out is set Away and the call rings a colleague;
//   - sign-out mid-call is refused (the reason is shown by the button) until the agent chooses to
//     send the caller back to the queue, which rings a colleague;
//   - leaving a call alone asks first, then the caller goes back to the queue and rings a
//     colleague, never the agent who left.
// Screenshots of the key moments land in e2e-artifacts/never-drop-*.png. Each test leaves both
// agents offline and its callers hung up, so the tests can run in any order.
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

const AGENT1 = 'agent1@example.com';
const AGENT2 = 'agent2@example.com';
/** Everything here is simulated and local; allow for a slow debug build on a shared machine. */
const STEP_MS = 30_000;
/** Long enough for a call to ring out (the backend's ring timeout) and be routed again. */
const RING_OUT_MS = env.ringTimeoutSeconds * 1_000 + STEP_MS;

let browser;
let skipReason = null;

before(async () => {
  skipReason = await demoCallsUnsupported();
  if (!skipReason) browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
});

/**
 * Runs one scenario with agents signed in (in this order) and cleans up whatever happens: a
 * screenshot of every page on failure, every simulated caller hung up, both agents offline.
 */
async function withAgents(t, name, emails, body) {
  if (skipReason) {
    t.skip(skipReason);
    return;
  }
  const agents = [];
  const callers = [];
  try {
    for (const email of emails) agents.push(await signInAgent(browser, email));
    await body({ agents, callers });
    for (const [i, a] of agents.entries()) assert.deepEqual(a.problems, [], `no page errors for ${emails[i]}`);
  } catch (err) {
    for (const [i, a] of agents.entries()) await screenshot(a.page, `never-drop-${name}-failure-agent${i + 1}`).catch(() => {});
    throw err;
  } finally {
    await cleanUp(agents, callers);
  }
}

async function cleanUp(agents, callers) {
  // Hang up every caller the test made (as the customer: the agent who placed the call or the
  // one on it may, the others get 404), so none is left in the queue to ring the next test's
  // agents.
  for (const sid of callers) {
    for (const { token } of agents) {
      const r = await api(`/api/demo/calls/${encodeURIComponent(sid)}/hangup`, { token, method: 'POST' }).catch(() => null);
      if (r && r.status !== 401 && r.status !== 404) break;
    }
  }
  for (const a of agents) {
    try {
      // A call still in hand keeps the agent from going offline: end it, then wait for the
      // agent to be off it.
      const mine = await api('/api/me/call', { token: a.token });
      if (mine.status === 200 && mine.json?.call) {
        await api(`/api/calls/${mine.json.call.id}/hangup`, { token: a.token, method: 'POST' });
      }
      await until(
        `${a.me.email} goes offline`,
        async () => {
          const r = await api('/api/me/status', { token: a.token, method: 'PUT', body: { status: 'offline' } });
          return r.status === 200 || r.status === 401; // 401: signed out already
        },
        STEP_MS,
      );
    } catch {
      // Best effort: the next test starts from fresh sign-ins anyway.
    }
    await a.context.close().catch(() => {});
  }
}

/** The demo control "Simulate a customer call", from `page`; returns the customer's call SID. */
async function simulateCall(page, from, callers) {
  await page.getByLabel('Caller number (optional)').fill(from);
  await page.getByRole('button', { name: 'Simulate a customer call' }).click();
  const item = page.getByRole('list', { name: 'Simulated calls' }).getByRole('listitem').filter({ hasText: from });
  await item.waitFor({ timeout: STEP_MS });
  const sid = await item.getAttribute('data-call-sid');
  assert.ok(sid, `the simulator returned the call sid for ${from}`);
  callers.push(sid);
  return sid;
}

/** The page's ringing prompt, once it shows `from`. */
async function ringing(page, from, timeout = STEP_MS) {
  const region = page.getByRole('region', { name: 'Incoming call' });
  await region.getByTestId('incoming-caller').filter({ hasText: from }).waitFor({ timeout });
  return region;
}

/** Accepts the ringing call from `from`; returns the active call card once the customer talks. */
async function accept(page, from) {
  const region = await ringing(page, from);
  await region.getByRole('button', { name: 'Accept' }).click();
  const call = page.getByTestId('active-call');
  await call.getByTestId('call-caller').filter({ hasText: from }).waitFor({ timeout: STEP_MS });
  await call.locator('[data-participant-kind="customer"]').filter({ hasText: 'Talking' }).waitFor({ timeout: STEP_MS });
  return call;
}

/** Waits until the agent owns the call shown on their page (its owner controls appear). */
async function owns(page, call) {
  await call.getByText('Your call').waitFor({ timeout: STEP_MS });
  await call.getByRole('group', { name: 'Call controls' }).getByRole('button', { name: 'Hang up', exact: true }).waitFor({ timeout: STEP_MS });
  return call.getAttribute('data-call-id');
}

async function status(page, label, timeout = STEP_MS) {
  await page.locator('[aria-label="Your status"] [aria-pressed="true"]', { hasText: label }).waitFor({ timeout });
}

async function callDetail(token, callId) {
  const r = await api(`/api/calls/${callId}`, { token });
  assert.equal(r.status, 200, `GET /api/calls/${callId}`);
  return r.json;
}

/** The agents rung for the call after its first event of `kind` (all of them without one). */
function rungAfter(detail, kind) {
  const events = detail.timeline;
  const from = kind ? events.findIndex((e) => e.kind === kind) : 0;
  assert.ok(from >= 0, `the timeline has ${kind}: ${events.map((e) => e.kind).join(', ')}`);
  return events.slice(from).filter((e) => e.kind === 'agent_ringing').map((e) => e.data.agent_id);
}

test('back-to-back: the next queued caller rings as soon as the agent hangs up', async (t) => {
  await withAgents(t, 'back-to-back', [AGENT1], async ({ agents: [a1], callers }) => {
    const FIRST = '+15551230101';
    const SECOND = '+15551230102';
    await goAvailable(a1.page, STEP_MS);

    // Two callers: the first rings the only available agent, the second waits in the queue.
    await simulateCall(a1.page, FIRST, callers);
    await ringing(a1.page, FIRST);
    await simulateCall(a1.page, SECOND, callers);
    const queue = a1.page.getByRole('list', { name: 'Waiting callers' });
    await queue.getByRole('listitem').filter({ hasText: SECOND }).filter({ hasText: 'Waiting' }).waitFor({ timeout: STEP_MS });

    // The agent answers the first and ends it.
    const call = await accept(a1.page, FIRST);
    const firstId = await owns(a1.page, call);
    await screenshot(a1.page, 'never-drop-1-first-call-second-waiting');
    await checkA11y(a1.page, 'never-drop-1-first-call-second-waiting');
    const hungUpAt = Date.now();
    await call.getByRole('group', { name: 'Call controls' }).getByRole('button', { name: 'Hang up', exact: true }).click();

    // The second caller rings at once in the same browser, and can be answered.
    const next = await ringing(a1.page, SECOND);
    const waited = Date.now() - hungUpAt;
    t.diagnostic(`the next call rang ${waited} ms after Hang up`);
    assert.match(await a1.page.title(), /Incoming call/);
    await next.getByRole('button', { name: 'Accept' }).waitFor();
    await screenshot(a1.page, 'never-drop-1-next-call-ringing');
    await checkA11y(a1.page, 'never-drop-1-next-call-ringing');
    const first = await until('the first call is completed', async () => {
      const d = await callDetail(a1.token, firstId);
      return d.status === 'completed' ? d : null;
    }, STEP_MS);
    assert.ok(first.ended_at, 'the first call has ended');

    const second = await accept(a1.page, SECOND);
    const secondId = await owns(a1.page, second);
    assert.notEqual(secondId, firstId, 'a different call');
    await a1.page.getByRole('list', { name: 'Waiting callers' }).waitFor({ state: 'detached', timeout: STEP_MS });
    await screenshot(a1.page, 'never-drop-1-next-call-answered');
    await checkA11y(a1.page, 'never-drop-1-next-call-answered');

    await second.getByRole('group', { name: 'Call controls' }).getByRole('button', { name: 'Hang up', exact: true }).click();
    await a1.page.getByTestId('no-call').waitFor({ timeout: STEP_MS });
  });
});

test('ring-out: the agent is set Away and the call rings the other agent', async (t) => {
  await withAgents(t, 'ring-out', [AGENT1, AGENT2], async ({ agents: [a1, a2], callers }) => {
    const CALLER = '+15551230201';
    // Agent 1 goes available first, so the router (longest idle first) offers them the call.
    await goAvailable(a1.page, STEP_MS);
    await goAvailable(a2.page, STEP_MS);

    await simulateCall(a1.page, CALLER, callers);
    const rang = await ringing(a1.page, CALLER);
    const rangAt = Date.now();
    assert.equal(await a2.page.getByRole('region', { name: 'Incoming call' }).count(), 0, 'agent 2 is not rung yet');
    await screenshot(a1.page, 'never-drop-2-agent1-ringing');
    await checkA11y(a1.page, 'never-drop-2-agent1-ringing');

    // Agent 1 lets it ring out: they are set Away and their prompt goes; the panel says why for
    // a few seconds (not "answered elsewhere"), so that is watched for from now on.
    const notice = a1.page.getByTestId('no-call').getByRole('status').filter({ hasText: CALLER });
    const told = notice.filter({ hasText: 'You did not answer in time, so you were set Away' }).waitFor({ timeout: RING_OUT_MS });
    told.catch(() => {}); // awaited below
    await status(a1.page, 'Away', RING_OUT_MS);
    await rang.waitFor({ state: 'detached', timeout: STEP_MS });
    t.diagnostic(`agent 1 was set Away ${Date.now() - rangAt} ms after the ringing showed (ring timeout ${env.ringTimeoutSeconds} s)`);
    await a1.page.getByTestId('idle-hint').filter({ hasText: 'You are away' }).waitFor({ timeout: STEP_MS });
    await told;
    await screenshot(a1.page, 'never-drop-2-agent1-away');
    await checkA11y(a1.page, 'never-drop-2-agent1-away');

    // Agent 2's browser rings with the same caller, and agent 2 answers.
    await ringing(a2.page, CALLER);
    await screenshot(a2.page, 'never-drop-2-agent2-ringing');
    await checkA11y(a2.page, 'never-drop-2-agent2-ringing');
    const call = await accept(a2.page, CALLER);
    const callId = await owns(a2.page, call);
    assert.equal(await a1.page.getByRole('region', { name: 'Incoming call' }).count(), 0, 'agent 1 is not rung again');
    // Agent 2 sees agent 1 away on the team board.
    await a2.page.getByRole('list', { name: 'Team presence' }).locator(`[data-agent-id="${a1.me.id}"]`, { hasText: 'Away' }).waitFor({ timeout: STEP_MS });

    const detail = await callDetail(a2.token, callId);
    const missed = detail.timeline.filter((e) => e.kind === 'agent_missed');
    assert.deepEqual(missed.map((e) => [e.data.agent_id, e.data.status]), [[a1.me.id, 'no_answer']], 'agent 1 missed it (no answer)');
    assert.deepEqual(rungAfter(detail, null), [a1.me.id, a2.me.id], 'rung: agent 1, then agent 2');
    assert.equal(detail.owner_agent_id, a2.me.id);
  });
});

test('sign-out mid-call is refused, then sends the caller back to the queue for the other agent', async (t) => {
  await withAgents(t, 'sign-out', [AGENT1, AGENT2], async ({ agents: [a1, a2], callers }) => {
    const CALLER = '+15551230301';
    await goAvailable(a1.page, STEP_MS);
    await goAvailable(a2.page, STEP_MS);
    await simulateCall(a1.page, CALLER, callers);
    const call = await accept(a1.page, CALLER);
    const callId = await owns(a1.page, call);

    // Sign out on a call: refused, with the reason next to the button; still signed in, on the call.
    const signOut = a1.page.locator('.sign-out');
    const signOutButton = signOut.getByRole('button', { name: 'Sign out', exact: true });
    const buttonBefore = await signOutButton.boundingBox();
    await signOutButton.click();
    const refusal = signOut.getByRole('alert');
    await refusal.waitFor({ timeout: STEP_MS });
    const reason = await refusal.innerText();
    assert.match(reason, /Still signed in: you are on a call\. Hang up, transfer or leave it first/);
    assert.doesNotMatch(reason, /hand_back/, 'the reason is in the agent\'s words, not the API\'s');
    assert.equal(await refusal.getAttribute('data-code'), 'conflict');
    // The reason opens below the button; the header does not reflow around it.
    assert.deepEqual(await signOutButton.boundingBox(), buttonBefore, 'the Sign out button stays where it was');
    const below = await refusal.boundingBox();
    assert.ok(below && buttonBefore && below.y >= buttonBefore.y + buttonBefore.height, 'the reason is right below the button');
    await call.locator('[data-participant-kind="customer"]').filter({ hasText: 'Talking' }).waitFor();
    assert.equal(await a1.page.getByRole('heading', { name: 'Dashboard' }).count(), 1, 'agent 1 is still on the dashboard');
    assert.equal(await call.getAttribute('data-call-id'), callId, 'still on the same call');
    const still = await api('/api/me/call', { token: a1.token });
    assert.equal(still.json?.call?.id, callId, 'the session still works and the call is agent 1\'s');
    await screenshot(a1.page, 'never-drop-3-sign-out-refused');
    await checkA11y(a1.page, 'never-drop-3-sign-out-refused');

    // Sign out anyway, sending the caller back to the queue.
    await refusal.getByRole('button', { name: 'Sign out and send the caller back to the queue' }).click();
    await a1.page.getByRole('button', { name: 'Sign in' }).waitFor({ timeout: STEP_MS });
    assert.equal((await api('/api/me', { token: a1.token })).status, 401, 'agent 1\'s session is over');

    // Agent 2's browser rings with that caller and answers.
    await ringing(a2.page, CALLER);
    await screenshot(a2.page, 'never-drop-3-agent2-ringing');
    await checkA11y(a2.page, 'never-drop-3-agent2-ringing');
    await screenshot(a1.page, 'never-drop-3-agent1-signed-out');
    await checkA11y(a1.page, 'never-drop-3-agent1-signed-out');
    const taken = await accept(a2.page, CALLER);
    assert.equal(await owns(a2.page, taken), callId, 'the same call');
    await a2.page.getByRole('list', { name: 'Team presence' }).locator(`[data-agent-id="${a1.me.id}"]`, { hasText: 'Offline' }).waitFor({ timeout: STEP_MS });
    await screenshot(a2.page, 'never-drop-3-agent2-answered');
    await checkA11y(a2.page, 'never-drop-3-agent2-answered');

    const detail = await callDetail(a2.token, callId);
    assert.deepEqual(rungAfter(detail, 'agent_handed_back'), [a2.me.id], 'after the hand-back, only agent 2 is rung');
  });
});

test('leaving alone: confirm, the caller goes back to the queue and rings the other agent', async (t) => {
  await withAgents(t, 'leave', [AGENT1, AGENT2], async ({ agents: [a1, a2], callers }) => {
    const CALLER = '+15551230401';
    await goAvailable(a1.page, STEP_MS);
    await goAvailable(a2.page, STEP_MS);
    await simulateCall(a1.page, CALLER, callers);
    const call = await accept(a1.page, CALLER);
    const callId = await owns(a1.page, call);

    // Leave: a confirmation says what happens to the customer.
    await call.getByRole('group', { name: 'Call controls' }).getByRole('button', { name: 'Leave call' }).click();
    const confirm = a1.page.getByRole('alertdialog', { name: 'Leave this call?' });
    await confirm.waitFor({ timeout: STEP_MS });
    const warning = await confirm.innerText();
    assert.match(warning, /You are the only agent on this call/);
    assert.match(warning, /the customer goes back to the queue and another agent will be rung/);
    await screenshot(a1.page, 'never-drop-4-leave-confirm');
    await checkA11y(a1.page, 'never-drop-4-leave-confirm');

    await confirm.getByRole('button', { name: 'Leave anyway' }).click();
    await a1.page.getByTestId('no-call').waitFor({ timeout: STEP_MS });

    // Agent 2's browser rings with that caller; agent 1's does not.
    const rang = await ringing(a2.page, CALLER);
    assert.equal(await a1.page.getByRole('region', { name: 'Incoming call' }).count(), 0, 'agent 1 is not rung');
    await screenshot(a2.page, 'never-drop-4-agent2-ringing');
    await checkA11y(a2.page, 'never-drop-4-agent2-ringing');
    await rang.getByRole('button', { name: 'Accept' }).click();
    const taken = a2.page.getByTestId('active-call');
    await taken.locator('[data-participant-kind="customer"]').filter({ hasText: 'Talking' }).waitFor({ timeout: STEP_MS });
    assert.equal(await owns(a2.page, taken), callId, 'the same call');
    assert.equal(await a1.page.getByRole('region', { name: 'Incoming call' }).count(), 0, 'agent 1 is still not rung');
    await screenshot(a1.page, 'never-drop-4-agent1-after-leaving');
    await checkA11y(a1.page, 'never-drop-4-agent1-after-leaving');

    const detail = await callDetail(a2.token, callId);
    assert.deepEqual(rungAfter(detail, 'agent_leaving'), [a2.me.id], 'after agent 1 left, only agent 2 is rung');
    assert.ok(detail.timeline.some((e) => e.kind === 'requeued'), 'the call went back to the queue');
  });
});
