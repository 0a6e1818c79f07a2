// Transfers an agent can trust, in two real browsers (demo mode, the backend's Twilio simulator):
// agent 1 answers a simulated customer and warm-transfers to agent 2 with a handover note, which
// agent 2 sees while it rings and during the consult; agent 1 sees "Ringing …" then "Talking to …";
// agent 1 cancels and agent 2 is told who cancelled it (not "the call ended"); agent 1 consults an
// outside number, which rings in the demo panel and is answered, talked to and hung up from there;
// finally agent 1 sends the customer back to the queue and is told so.
// Screenshots: e2e-artifacts/transfer-*.png.
import { api, escapeRegExp, expect, goAvailable, type Json, requireDemoCalls, screenshot, test, until } from './fixtures';

const CALLER = '+15551230002';
const OUTSIDE = '+14155550199';
const NOTE = 'Wants a refund for order 1042';
const QUEUE_NOTE = 'Asked for the billing team';
const AGENT1 = 'agent1@example.com';
const AGENT2 = 'agent2@example.com';
const STEP_MS = 20_000;

test('handover note, cancelled consult, outside party and transfer to the queue', async ({
  demoCallsUnsupported,
  signInAgent,
  simulateCall,
}) => {
  requireDemoCalls(demoCallsUnsupported);
  const a1 = await signInAgent(AGENT1);
  const a2 = await signInAgent(AGENT2);
  const name2 = a2.me.display_name;
  // Agent 1 first, so the router (longest idle first) offers agent 1 the call.
  await goAvailable(a1.page, STEP_MS);
  await goAvailable(a2.page, STEP_MS);

  await simulateCall(a1.page, CALLER);
  const ringing1 = a1.page.getByRole('region', { name: 'Incoming call' });
  await expect(ringing1).toBeVisible({ timeout: STEP_MS });
  await ringing1.getByRole('button', { name: 'Accept' }).click();
  const call1 = a1.page.getByTestId('active-call');
  await expect(call1.locator('[data-participant-kind="customer"]').filter({ hasText: 'Talking' })).toBeVisible({ timeout: STEP_MS });
  const callId = await call1.getAttribute('data-call-id');
  await until('agent 1 owns the call', async () => {
    const r = await api('/api/me/call', { token: a1.token });
    return r.json?.call?.owner_agent_id === a1.me.id;
  }, STEP_MS);

  // 1. A warm transfer to agent 2 with a handover note.
  await call1.getByRole('radio', { name: 'Warm' }).check();
  await call1.getByRole('radio', { name: new RegExp(escapeRegExp(name2)) }).check();
  await call1.getByLabel(/Note for the target/).fill(NOTE);
  await call1.getByRole('button', { name: 'Start warm transfer' }).click();
  const progress1 = call1.getByTestId('transfer-progress');
  await expect(progress1.filter({ hasText: `Ringing ${name2}…` })).toBeVisible({ timeout: STEP_MS });

  const ringing2 = a2.page.getByRole('region', { name: 'Incoming call' });
  await expect(ringing2).toBeVisible({ timeout: STEP_MS });
  await expect(ringing2.getByTestId('handover-note').filter({ hasText: NOTE })).toBeVisible({ timeout: STEP_MS });
  await expect(ringing2.getByTestId('incoming-transfer-detail')).toHaveText(/stays on the line/, { useInnerText: true });
  await screenshot(a2.page, 'transfer-note-ringing');

  await ringing2.getByRole('button', { name: 'Accept' }).click();
  const call2 = a2.page.getByTestId('active-call');
  await expect(call2.getByTestId('handover-note').filter({ hasText: NOTE })).toBeVisible({ timeout: STEP_MS });
  await expect(progress1.filter({ hasText: `Talking to ${name2}` })).toBeVisible({ timeout: STEP_MS });

  // 2. Agent 1 cancels the consult: agent 2 is told who cancelled it.
  await call1.getByRole('button', { name: 'Cancel transfer' }).click();
  const last2 = a2.page.getByTestId('last-call');
  await expect(last2.filter({ hasText: `Transfer cancelled by ${a1.me.display_name}` })).toBeVisible({ timeout: STEP_MS });
  await expect(a2.page.getByTestId('no-call')).not.toHaveText(/The call ended\./, { useInnerText: true });
  await screenshot(a2.page, 'transfer-cancelled');
  const detail = await api(`/api/calls/${callId}`, { token: a1.token });
  expect(
    detail.json.timeline.some((e: Json) => e.kind === 'handover_note' && e.data.note === NOTE),
    'the note is in the call timeline',
  ).toBe(true);

  // 3. A consult to an outside number, answered from the demo panel.
  await expect(call1.getByTestId('active-transfer')).not.toBeAttached({ timeout: STEP_MS });
  await call1.getByRole('radio', { name: 'Warm' }).check();
  await call1.getByRole('radio', { name: 'A phone number' }).check();
  await call1.getByLabel('Phone number (E.164)').fill(OUTSIDE);
  await call1.getByRole('button', { name: 'Start warm transfer' }).click();
  const outside = a1.page.getByTestId('outside-party');
  const party = outside.locator('li[data-status="ringing"]');
  await expect(party).toBeVisible({ timeout: STEP_MS });
  await party.getByRole('button', { name: `Answer as ${OUTSIDE}` }).click();
  await expect(outside.locator('li[data-status="in-progress"]')).toBeVisible({ timeout: STEP_MS });
  await expect(progress1.filter({ hasText: /Talking to/ })).toBeVisible({ timeout: STEP_MS });
  await expect(outside.getByTestId('outside-heard').filter({ hasText: /on the line to brief you/ })).toBeVisible({ timeout: STEP_MS });
  await screenshot(a1.page, 'transfer-outside-party');
  await outside.getByRole('button', { name: `Hang up as ${OUTSIDE}` }).click();
  await expect(call1.getByTestId('transfer-outcome').filter({ hasText: /hung up; the transfer is off/ })).toBeVisible({ timeout: STEP_MS });

  // 4. Agent 1 sends the customer back to the queue, with a note for whoever takes it next.
  await call1.getByRole('radio', { name: 'Back to the queue' }).check();
  await call1.getByLabel('Note for the next agent (optional)').fill(QUEUE_NOTE);
  await call1.getByRole('button', { name: 'Send to the queue' }).click();
  await expect(
    a1.page.getByTestId('last-call').filter({ hasText: 'You sent the customer back to the queue.' }),
  ).toBeVisible({ timeout: STEP_MS });
  const queued = await until('the call is back in the queue (or with agent 2)', async () => {
    const r = await api(`/api/calls/${callId}`, { token: a1.token });
    return ['queued', 'ringing'].includes(r.json?.status) || r.json?.owner_agent_id === a2.me.id ? r.json : null;
  }, STEP_MS);
  const sentBack = queued.timeline.find((e: Json) => e.kind === 'transferred_to_queue');
  expect(sentBack?.data.note, 'recorded in the timeline, with the note').toBe(QUEUE_NOTE);
  expect(queued.timeline.some((e: Json) => e.kind === 'call_received'), 'the call keeps its history').toBe(true);
  await screenshot(a1.page, 'transfer-to-queue');
  // Agent 2, available, is offered the call next and reads the note while it rings.
  const incoming2 = a2.page.getByTestId('incoming-call');
  await expect(incoming2).toBeVisible({ timeout: STEP_MS });
  await expect(incoming2.getByTestId('handover-note')).toHaveText(
    `Note from ${a1.me.display_name}, who sent the call back to the queue: ${QUEUE_NOTE}`,
    { timeout: STEP_MS },
  );
  await screenshot(a2.page, 'transfer-to-queue-note-ringing');

  // The customer hangs up (demo control), ending the call for whoever has it now.
  await a1.page.getByRole('button', { name: `Hang up as customer (${CALLER})` }).click();
  await until('the call is over', async () => {
    const r = await api(`/api/calls/${callId}`, { token: a1.token });
    return ['completed', 'abandoned'].includes(r.json?.status);
  }, STEP_MS);

  expect(a1.problems, 'no page errors for agent 1').toEqual([]);
  expect(a2.problems, 'no page errors for agent 2').toEqual([]);
});
