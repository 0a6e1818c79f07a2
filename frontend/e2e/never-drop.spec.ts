// A caller is never dropped (demo mode, the backend's Twilio simulator, real browsers):
//   - back-to-back: the next queued caller rings the moment the agent hangs up on the last one;
//   - ring-out: an agent who lets a call ring out is set Away and the call rings a colleague;
//   - sign-out mid-call is refused (the reason is shown by the button) until the agent chooses to
//     send the caller back to the queue, which rings a colleague;
//   - leaving a call alone asks first, then the caller goes back to the queue and rings a
//     colleague, never the agent who left.
// Screenshots of the key moments land in e2e-artifacts/never-drop-*.png. After each test the
// fixtures hang up its callers and leave both agents offline, so the tests can run in any order.
import type { Locator, Page } from '@playwright/test';
import {
  api,
  diagnostic,
  env,
  expect,
  goAvailable,
  type Json,
  requireDemoCalls,
  ringing,
  screenshot,
  type SignedIn,
  status,
  STEP_MS,
  test,
  until,
} from './fixtures';

const AGENT1 = 'agent1@example.com';
const AGENT2 = 'agent2@example.com';
/** Long enough for a call to ring out (the backend's ring timeout) and be routed again. */
const ringOutMs = () => env.ringTimeoutSeconds * 1_000 + STEP_MS;

test.beforeEach(({ demoCallsUnsupported }) => requireDemoCalls(demoCallsUnsupported));

/** Accepts the ringing call from `from`; returns the active call card once the customer talks. */
async function accept(page: Page, from: string): Promise<Locator> {
  const region = await ringing(page, from);
  await region.getByRole('button', { name: 'Accept' }).click();
  const call = page.getByTestId('active-call');
  await expect(call.getByTestId('call-caller').filter({ hasText: from })).toBeVisible({ timeout: STEP_MS });
  await expect(call.locator('[data-participant-kind="customer"]').filter({ hasText: 'Talking' })).toBeVisible({ timeout: STEP_MS });
  return call;
}

/** Waits until the agent owns the call shown on their page (its owner controls appear). */
async function owns(call: Locator): Promise<string | null> {
  await expect(call.getByText('Your call')).toBeVisible({ timeout: STEP_MS });
  await expect(
    call.getByRole('group', { name: 'Call controls' }).getByRole('button', { name: 'Hang up', exact: true }),
  ).toBeVisible({ timeout: STEP_MS });
  return call.getAttribute('data-call-id');
}

async function callDetail(token: string, callId: string | null): Promise<Json> {
  const r = await api(`/api/calls/${callId}`, { token });
  expect(r.status, `GET /api/calls/${callId}`).toBe(200);
  return r.json;
}

/** The agents rung for the call after its first event of `kind` (all of them without one). */
function rungAfter(detail: Json, kind: string | null): string[] {
  const events: Json[] = detail.timeline;
  const from = kind ? events.findIndex((e) => e.kind === kind) : 0;
  expect(from, `the timeline has ${kind}: ${events.map((e) => e.kind).join(', ')}`).toBeGreaterThanOrEqual(0);
  return events.slice(from).filter((e) => e.kind === 'agent_ringing').map((e) => e.data.agent_id);
}

function noPageErrors(agents: SignedIn[]) {
  for (const a of agents) expect(a.problems, `no page errors for ${a.email}`).toEqual([]);
}

test('back-to-back: the next queued caller rings as soon as the agent hangs up', async ({
  signInAgent,
  simulateCall,
  checkA11y,
}) => {
  const a1 = await signInAgent(AGENT1);
  const FIRST = '+15551230101';
  const SECOND = '+15551230102';
  await goAvailable(a1.page, STEP_MS);

  // Two callers: the first rings the only available agent, the second waits in the queue.
  await simulateCall(a1.page, FIRST);
  await ringing(a1.page, FIRST);
  await simulateCall(a1.page, SECOND);
  const queue = a1.page.getByRole('list', { name: 'Waiting callers' });
  await expect(queue.getByRole('listitem').filter({ hasText: SECOND }).filter({ hasText: 'Waiting' })).toBeVisible({ timeout: STEP_MS });

  // The agent answers the first and ends it.
  const call = await accept(a1.page, FIRST);
  const firstId = await owns(call);
  await screenshot(a1.page, 'never-drop-1-first-call-second-waiting');
  await checkA11y(a1.page, 'never-drop-1-first-call-second-waiting');
  const hungUpAt = Date.now();
  await call.getByRole('group', { name: 'Call controls' }).getByRole('button', { name: 'Hang up', exact: true }).click();

  // The second caller rings at once in the same browser, and can be answered.
  const next = await ringing(a1.page, SECOND);
  diagnostic(`the next call rang ${Date.now() - hungUpAt} ms after Hang up`);
  await expect(a1.page).toHaveTitle(/Incoming call/);
  await expect(next.getByRole('button', { name: 'Accept' })).toBeVisible();
  await screenshot(a1.page, 'never-drop-1-next-call-ringing');
  await checkA11y(a1.page, 'never-drop-1-next-call-ringing');
  const first = await until('the first call is completed', async () => {
    const d = await callDetail(a1.token, firstId);
    return d.status === 'completed' ? d : null;
  });
  expect(first.ended_at, 'the first call has ended').toBeTruthy();

  const second = await accept(a1.page, SECOND);
  const secondId = await owns(second);
  expect(secondId, 'a different call').not.toBe(firstId);
  await expect(a1.page.getByRole('list', { name: 'Waiting callers' })).not.toBeAttached({ timeout: STEP_MS });
  await screenshot(a1.page, 'never-drop-1-next-call-answered');
  await checkA11y(a1.page, 'never-drop-1-next-call-answered');

  await second.getByRole('group', { name: 'Call controls' }).getByRole('button', { name: 'Hang up', exact: true }).click();
  await expect(a1.page.getByTestId('no-call')).toBeVisible({ timeout: STEP_MS });
  noPageErrors([a1]);
});

test('ring-out: the agent is set Away and the call rings the other agent', async ({
  signInAgent,
  simulateCall,
  checkA11y,
}) => {
  const a1 = await signInAgent(AGENT1);
  const a2 = await signInAgent(AGENT2);
  const CALLER = '+15551230201';
  // Agent 1 goes available first, so the router (longest idle first) offers them the call.
  await goAvailable(a1.page, STEP_MS);
  await goAvailable(a2.page, STEP_MS);

  await simulateCall(a1.page, CALLER);
  const rang = await ringing(a1.page, CALLER);
  const rangAt = Date.now();
  await expect(a2.page.getByRole('region', { name: 'Incoming call' }), 'agent 2 is not rung yet').toHaveCount(0);
  await screenshot(a1.page, 'never-drop-2-agent1-ringing');
  await checkA11y(a1.page, 'never-drop-2-agent1-ringing');

  // Agent 1 lets it ring out: they are set Away and their prompt goes; the panel says why for
  // a few seconds (not "answered elsewhere"), so that is watched for from now on.
  const notice = a1.page.getByTestId('no-call').getByRole('status').filter({ hasText: CALLER });
  const told = expect(notice.filter({ hasText: 'You did not answer in time, so you were set Away' })).toBeVisible({
    timeout: ringOutMs(),
  });
  told.catch(() => {}); // awaited below
  await status(a1.page, 'Away', ringOutMs());
  await expect(rang).not.toBeAttached({ timeout: STEP_MS });
  diagnostic(`agent 1 was set Away ${Date.now() - rangAt} ms after the ringing showed (ring timeout ${env.ringTimeoutSeconds} s)`);
  await expect(a1.page.getByTestId('idle-hint').filter({ hasText: 'You are away' })).toBeVisible({ timeout: STEP_MS });
  await told;
  await screenshot(a1.page, 'never-drop-2-agent1-away');
  await checkA11y(a1.page, 'never-drop-2-agent1-away');

  // Agent 2's browser rings with the same caller, and agent 2 answers.
  await ringing(a2.page, CALLER);
  await screenshot(a2.page, 'never-drop-2-agent2-ringing');
  await checkA11y(a2.page, 'never-drop-2-agent2-ringing');
  const call = await accept(a2.page, CALLER);
  const callId = await owns(call);
  await expect(a1.page.getByRole('region', { name: 'Incoming call' }), 'agent 1 is not rung again').toHaveCount(0);
  // Agent 2 sees agent 1 away on the team board.
  await expect(
    a2.page.getByRole('list', { name: 'Team presence' }).locator(`[data-agent-id="${a1.me.id}"]`, { hasText: 'Away' }),
  ).toBeVisible({ timeout: STEP_MS });

  const detail = await callDetail(a2.token, callId);
  const missed = detail.timeline.filter((e: Json) => e.kind === 'agent_missed');
  expect(missed.map((e: Json) => [e.data.agent_id, e.data.status]), 'agent 1 missed it (no answer)').toEqual([
    [a1.me.id, 'no_answer'],
  ]);
  expect(rungAfter(detail, null), 'rung: agent 1, then agent 2').toEqual([a1.me.id, a2.me.id]);
  expect(detail.owner_agent_id).toBe(a2.me.id);
  noPageErrors([a1, a2]);
});

test('sign-out mid-call is refused, then sends the caller back to the queue for the other agent', async ({
  signInAgent,
  simulateCall,
  checkA11y,
}) => {
  const a1 = await signInAgent(AGENT1);
  const a2 = await signInAgent(AGENT2);
  const CALLER = '+15551230301';
  await goAvailable(a1.page, STEP_MS);
  await goAvailable(a2.page, STEP_MS);
  await simulateCall(a1.page, CALLER);
  const call = await accept(a1.page, CALLER);
  const callId = await owns(call);

  // Sign out on a call: refused, with the reason next to the button; still signed in, on the call.
  const signOut = a1.page.locator('.sign-out');
  const signOutButton = signOut.getByRole('button', { name: 'Sign out', exact: true });
  const buttonBefore = await signOutButton.boundingBox();
  await signOutButton.click();
  const refusal = signOut.getByRole('alert');
  await expect(refusal).toBeVisible({ timeout: STEP_MS });
  const reason = await refusal.innerText();
  expect(reason).toMatch(/Still signed in: you are on a call\. Hang up, transfer or leave it first/);
  expect(reason, "the reason is in the agent's words, not the API's").not.toMatch(/hand_back/);
  await expect(refusal).toHaveAttribute('data-code', 'conflict');
  // The reason opens below the button; the header does not reflow around it.
  expect(await signOutButton.boundingBox(), 'the Sign out button stays where it was').toEqual(buttonBefore);
  const below = await refusal.boundingBox();
  expect(
    below && buttonBefore && below.y >= buttonBefore.y + buttonBefore.height,
    'the reason is right below the button',
  ).toBeTruthy();
  await expect(call.locator('[data-participant-kind="customer"]').filter({ hasText: 'Talking' })).toBeVisible();
  await expect(a1.page.getByRole('heading', { name: 'Dashboard' }), 'agent 1 is still on the dashboard').toHaveCount(1);
  await expect(call, 'still on the same call').toHaveAttribute('data-call-id', callId ?? '');
  const still = await api('/api/me/call', { token: a1.token });
  expect(still.json?.call?.id, "the session still works and the call is agent 1's").toBe(callId);
  await screenshot(a1.page, 'never-drop-3-sign-out-refused');
  await checkA11y(a1.page, 'never-drop-3-sign-out-refused');

  // Sign out anyway, sending the caller back to the queue.
  await refusal.getByRole('button', { name: 'Sign out and send the caller back to the queue' }).click();
  await expect(a1.page.getByRole('button', { name: 'Sign in' })).toBeVisible({ timeout: STEP_MS });
  expect((await api('/api/me', { token: a1.token })).status, "agent 1's session is over").toBe(401);

  // Agent 2's browser rings with that caller and answers.
  await ringing(a2.page, CALLER);
  await screenshot(a2.page, 'never-drop-3-agent2-ringing');
  await checkA11y(a2.page, 'never-drop-3-agent2-ringing');
  await screenshot(a1.page, 'never-drop-3-agent1-signed-out');
  await checkA11y(a1.page, 'never-drop-3-agent1-signed-out');
  const taken = await accept(a2.page, CALLER);
  expect(await owns(taken), 'the same call').toBe(callId);
  await expect(
    a2.page.getByRole('list', { name: 'Team presence' }).locator(`[data-agent-id="${a1.me.id}"]`, { hasText: 'Offline' }),
  ).toBeVisible({ timeout: STEP_MS });
  await screenshot(a2.page, 'never-drop-3-agent2-answered');
  await checkA11y(a2.page, 'never-drop-3-agent2-answered');

  const detail = await callDetail(a2.token, callId);
  expect(rungAfter(detail, 'agent_handed_back'), 'after the hand-back, only agent 2 is rung').toEqual([a2.me.id]);
  noPageErrors([a1, a2]);
});

test('leaving alone: confirm, the caller goes back to the queue and rings the other agent', async ({
  signInAgent,
  simulateCall,
  checkA11y,
}) => {
  const a1 = await signInAgent(AGENT1);
  const a2 = await signInAgent(AGENT2);
  const CALLER = '+15551230401';
  await goAvailable(a1.page, STEP_MS);
  await goAvailable(a2.page, STEP_MS);
  await simulateCall(a1.page, CALLER);
  const call = await accept(a1.page, CALLER);
  const callId = await owns(call);

  // Leave: a confirmation says what happens to the customer.
  await call.getByRole('group', { name: 'Call controls' }).getByRole('button', { name: 'Leave call' }).click();
  const confirm = a1.page.getByRole('alertdialog', { name: 'Leave this call?' });
  await expect(confirm).toBeVisible({ timeout: STEP_MS });
  await expect(confirm).toContainText('You are the only agent on this call', { useInnerText: true });
  await expect(confirm).toContainText('the customer goes back to the queue and another agent will be rung', { useInnerText: true });
  await screenshot(a1.page, 'never-drop-4-leave-confirm');
  await checkA11y(a1.page, 'never-drop-4-leave-confirm');

  await confirm.getByRole('button', { name: 'Leave anyway' }).click();
  await expect(a1.page.getByTestId('no-call')).toBeVisible({ timeout: STEP_MS });

  // Agent 2's browser rings with that caller; agent 1's does not.
  const rang = await ringing(a2.page, CALLER);
  await expect(a1.page.getByRole('region', { name: 'Incoming call' }), 'agent 1 is not rung').toHaveCount(0);
  await screenshot(a2.page, 'never-drop-4-agent2-ringing');
  await checkA11y(a2.page, 'never-drop-4-agent2-ringing');
  await rang.getByRole('button', { name: 'Accept' }).click();
  const taken = a2.page.getByTestId('active-call');
  await expect(taken.locator('[data-participant-kind="customer"]').filter({ hasText: 'Talking' })).toBeVisible({ timeout: STEP_MS });
  expect(await owns(taken), 'the same call').toBe(callId);
  await expect(a1.page.getByRole('region', { name: 'Incoming call' }), 'agent 1 is still not rung').toHaveCount(0);
  await screenshot(a1.page, 'never-drop-4-agent1-after-leaving');
  await checkA11y(a1.page, 'never-drop-4-agent1-after-leaving');

  const detail = await callDetail(a2.token, callId);
  expect(rungAfter(detail, 'agent_leaving'), 'after agent 1 left, only agent 2 is rung').toEqual([a2.me.id]);
  expect(detail.timeline.some((e: Json) => e.kind === 'requeued'), 'the call went back to the queue').toBe(true);
  noPageErrors([a1, a2]);
});
