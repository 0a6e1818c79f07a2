// Transfers an agent can trust, in two real browsers (demo mode, the backend's Twilio simulator):
// agent 1 answers a simulated customer and warm-transfers to agent 2 with a handover note, which
// agent 2 sees while it rings and during the consult; agent 1 sees "Ringing …" then "Talking to …";
// agent 1 cancels and agent 2 is told who cancelled it (not "the call ended"); agent 1 consults an
// outside number, which rings in the demo panel and is answered, talked to and hung up from there;
// finally agent 1 sends the customer back to the queue and is told so.
// Screenshots: e2e-artifacts/transfer-*.png.
import { after, before, test } from 'node:test';
import {
  api,
  assert,
  demoCallsUnsupported,
  escapeRegExp,
  goAvailable as goAvailableIn,
  launchBrowser,
  screenshot,
  signInAgent as signInAgentIn,
  until as untilIn,
} from './lib.mjs';

const CALLER = '+15551230002';
const OUTSIDE = '+14155550199';
const NOTE = 'Wants a refund for order 1042';
const QUEUE_NOTE = 'Asked for the billing team';
const AGENT1 = 'agent1@example.com';
const AGENT2 = 'agent2@example.com';
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

test('handover note, cancelled consult, outside party and transfer to the queue', async (t) => {
  const reason = await demoCallsUnsupported();
  if (reason) {
    t.skip(reason);
    return;
  }

  const a1 = await signInAgent(AGENT1);
  const a2 = await signInAgent(AGENT2);
  const name2 = a2.me.display_name;
  try {
    // Agent 1 first, so the router (longest idle first) offers agent 1 the call.
    await goAvailable(a1.page);
    await goAvailable(a2.page);

    await a1.page.getByLabel('Caller number (optional)').fill(CALLER);
    await a1.page.getByRole('button', { name: 'Simulate a customer call' }).click();
    const ringing1 = a1.page.getByRole('region', { name: 'Incoming call' });
    await ringing1.waitFor({ timeout: STEP_MS });
    await ringing1.getByRole('button', { name: 'Accept' }).click();
    const call1 = a1.page.getByTestId('active-call');
    await call1.locator('[data-participant-kind="customer"]').filter({ hasText: 'Talking' }).waitFor({ timeout: STEP_MS });
    const callId = await call1.getAttribute('data-call-id');
    await until('agent 1 owns the call', async () => {
      const r = await api('/api/me/call', { token: a1.token });
      return r.json?.call?.owner_agent_id === a1.me.id;
    });

    // 1. A warm transfer to agent 2 with a handover note.
    await call1.getByRole('radio', { name: 'Warm' }).check();
    await call1.getByRole('radio', { name: new RegExp(escapeRegExp(name2)) }).check();
    await call1.getByLabel(/Note for the target/).fill(NOTE);
    await call1.getByRole('button', { name: 'Start warm transfer' }).click();
    const progress1 = call1.getByTestId('transfer-progress');
    await progress1.filter({ hasText: `Ringing ${name2}…` }).waitFor({ timeout: STEP_MS });

    const ringing2 = a2.page.getByRole('region', { name: 'Incoming call' });
    await ringing2.waitFor({ timeout: STEP_MS });
    await ringing2.getByTestId('handover-note').filter({ hasText: NOTE }).waitFor({ timeout: STEP_MS });
    assert.match(await ringing2.getByTestId('incoming-transfer-detail').innerText(), /stays on the line/);
    await screenshot(a2.page, 'transfer-note-ringing');

    await ringing2.getByRole('button', { name: 'Accept' }).click();
    const call2 = a2.page.getByTestId('active-call');
    await call2.getByTestId('handover-note').filter({ hasText: NOTE }).waitFor({ timeout: STEP_MS });
    await progress1.filter({ hasText: `Talking to ${name2}` }).waitFor({ timeout: STEP_MS });

    // 2. Agent 1 cancels the consult: agent 2 is told who cancelled it.
    await call1.getByRole('button', { name: 'Cancel transfer' }).click();
    const last2 = a2.page.getByTestId('last-call');
    await last2.filter({ hasText: `Transfer cancelled by ${a1.me.display_name}` }).waitFor({ timeout: STEP_MS });
    assert.doesNotMatch(await a2.page.getByTestId('no-call').innerText(), /The call ended\./);
    await screenshot(a2.page, 'transfer-cancelled');
    const detail = await api(`/api/calls/${callId}`, { token: a1.token });
    assert.ok(
      detail.json.timeline.some((e) => e.kind === 'handover_note' && e.data.note === NOTE),
      'the note is in the call timeline',
    );

    // 3. A consult to an outside number, answered from the demo panel.
    await call1.getByTestId('active-transfer').waitFor({ state: 'detached', timeout: STEP_MS });
    await call1.getByRole('radio', { name: 'Warm' }).check();
    await call1.getByRole('radio', { name: 'A phone number' }).check();
    await call1.getByLabel('Phone number (E.164)').fill(OUTSIDE);
    await call1.getByRole('button', { name: 'Start warm transfer' }).click();
    const outside = a1.page.getByTestId('outside-party');
    const party = outside.locator('li[data-status="ringing"]');
    await party.waitFor({ timeout: STEP_MS });
    await party.getByRole('button', { name: `Answer as ${OUTSIDE}` }).click();
    await outside.locator('li[data-status="in-progress"]').waitFor({ timeout: STEP_MS });
    await progress1.filter({ hasText: /Talking to/ }).waitFor({ timeout: STEP_MS });
    await outside.getByTestId('outside-heard').filter({ hasText: /on the line to brief you/ }).waitFor({ timeout: STEP_MS });
    await screenshot(a1.page, 'transfer-outside-party');
    await outside.getByRole('button', { name: `Hang up as ${OUTSIDE}` }).click();
    await call1.getByTestId('transfer-outcome').filter({ hasText: /hung up; the transfer is off/ }).waitFor({ timeout: STEP_MS });

    // 4. Agent 1 sends the customer back to the queue, with a note for whoever takes it next.
    await call1.getByRole('radio', { name: 'Back to the queue' }).check();
    await call1.getByLabel('Note for the next agent (optional)').fill(QUEUE_NOTE);
    await call1.getByRole('button', { name: 'Send to the queue' }).click();
    await a1.page
      .getByTestId('last-call')
      .filter({ hasText: 'You sent the customer back to the queue.' })
      .waitFor({ timeout: STEP_MS });
    const queued = await until('the call is back in the queue (or with agent 2)', async () => {
      const r = await api(`/api/calls/${callId}`, { token: a1.token });
      return ['queued', 'ringing'].includes(r.json?.status) || r.json?.owner_agent_id === a2.me.id ? r.json : null;
    });
    const sentBack = queued.timeline.find((e) => e.kind === 'transferred_to_queue');
    assert.equal(sentBack?.data.note, QUEUE_NOTE, 'recorded in the timeline, with the note');
    assert.ok(queued.timeline.some((e) => e.kind === 'call_received'), 'the call keeps its history');
    await screenshot(a1.page, 'transfer-to-queue');
    // Agent 2, available, is offered the call next and reads the note while it rings.
    const incoming2 = a2.page.getByTestId('incoming-call');
    await incoming2.waitFor({ timeout: STEP_MS });
    await incoming2
      .getByTestId('handover-note')
      .filter({ hasText: `Note from ${a1.me.display_name}, who sent the call back to the queue: ${QUEUE_NOTE}` })
      .waitFor({ timeout: STEP_MS });
    await screenshot(a2.page, 'transfer-to-queue-note-ringing');

    // The customer hangs up (demo control), ending the call for whoever has it now.
    await a1.page.getByRole('button', { name: `Hang up as customer (${CALLER})` }).click();
    await until('the call is over', async () => {
      const r = await api(`/api/calls/${callId}`, { token: a1.token });
      return ['completed', 'abandoned'].includes(r.json?.status);
    });

    assert.deepEqual(a1.problems, [], 'no page errors for agent 1');
    assert.deepEqual(a2.problems, [], 'no page errors for agent 2');
  } catch (err) {
    await screenshot(a1.page, 'transfer-failure-agent1').catch(() => {});
    await screenshot(a2.page, 'transfer-failure-agent2').catch(() => {});
    throw err;
  } finally {
    for (const { token } of [a1, a2]) {
      await api('/api/me/status', { token, method: 'PUT', body: { status: 'offline' } }).catch(() => {});
    }
    await a1.context.close();
    await a2.context.close();
  }
});
