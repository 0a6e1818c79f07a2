// Desktop use in a real browser (demo mode, the backend's simulator):
//   - keyboard shortcuts: A answers, H holds/resumes the customer, M mutes, T goes to the transfer
//     targets, E hangs up; letters typed into a field stay text; ? opens a modal list of them that
//     keeps focus and closes with Escape;
//   - the presence control stays put: its bounding box is the same before a call, while it rings
//     and while the agent is on it;
//   - audio settings: the fake microphones are listed, a choice survives a reload, the test tone
//     plays; the microphone is asked for when the agent goes available, not while a call rings;
//   - a reload during a call: the page says the call is still going and reconnects the audio;
//   - every page and state visited passes axe-core with no serious or critical violation.
// Screenshots land in e2e-artifacts/desktop-*.png.
import { after, before, test } from 'node:test';
import {
  api,
  assert,
  checkA11y,
  demoCallsUnsupported,
  env,
  goAvailable,
  launchBrowser,
  openPage,
  screenshot,
  signIn,
  signInAgent,
  until,
} from './lib.mjs';

const AGENT = 'agent1@example.com';
/** Everything here is simulated and local; allow for a slow debug build on a shared machine. */
const STEP_MS = 30_000;

let browser;
let skipReason = null;

before(async () => {
  skipReason = await demoCallsUnsupported();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
});

async function simulateCall(page, from) {
  await page.getByLabel('Caller number (optional)').fill(from);
  await page.getByRole('button', { name: 'Simulate a customer call' }).click();
  await page.getByRole('list', { name: 'Simulated calls' }).getByRole('listitem').filter({ hasText: from }).waitFor({ timeout: STEP_MS });
}

async function ringing(page, from) {
  const region = page.getByRole('region', { name: 'Incoming call' });
  await region.getByTestId('incoming-caller').filter({ hasText: from }).waitFor({ timeout: STEP_MS });
  return region;
}

async function offline(agent) {
  // A failure may leave a call up: end it, or the agent cannot go offline and the next spec waits.
  const mine = await api('/api/me/call', { token: agent.token }).catch(() => null);
  if (mine?.json?.call?.id) await api(`/api/calls/${mine.json.call.id}/hangup`, { token: agent.token, method: 'POST' }).catch(() => {});
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

/** Where the status buttons are, rounded to whole pixels. */
async function presenceBox(page) {
  const box = await page.getByRole('group', { name: 'Your status' }).boundingBox();
  assert.ok(box, 'the status buttons are on screen');
  return Object.fromEntries(Object.entries(box).map(([k, v]) => [k, Math.round(v)]));
}

/** Presses a key with nothing focused (as after clicking on the page's background). */
async function pressOnPage(page, key) {
  await page.evaluate(() => (document.activeElement instanceof HTMLElement ? document.activeElement.blur() : undefined));
  await page.keyboard.press(key);
}

test('keyboard shortcuts and a presence control that does not move, with axe checks on each state', async (t) => {
  if (skipReason) {
    t.skip(skipReason);
    return;
  }
  const a = await signInAgent(browser, AGENT);
  const CALLER = '+15551230901';
  try {
    await goAvailable(a.page, STEP_MS);
    const idleBox = await presenceBox(a.page);
    await checkA11y(a.page, 'dashboard, available, idle');

    await simulateCall(a.page, CALLER);
    const region = await ringing(a.page, CALLER);
    const ringingBox = await presenceBox(a.page);
    await screenshot(a.page, 'desktop-1-ringing');
    await checkA11y(a.page, 'dashboard, ringing');
    assert.deepEqual(ringingBox, idleBox, 'the status buttons stay where they were when the call rings');
    assert.equal(await region.getByRole('button', { name: 'Accept' }).getAttribute('aria-keyshortcuts'), 'A');

    // A answers.
    await pressOnPage(a.page, 'a');
    const call = a.page.getByTestId('active-call');
    await call.locator('[data-participant-kind="customer"]').filter({ hasText: 'Talking' }).waitFor({ timeout: STEP_MS });
    const onCallBox = await presenceBox(a.page);
    assert.deepEqual(onCallBox, idleBox, 'the status buttons stay where they were once on the call');
    await screenshot(a.page, 'desktop-2-presence-on-a-call');

    // H holds the customer, M mutes the agent.
    const controls = call.getByRole('group', { name: 'Call controls' });
    await pressOnPage(a.page, 'h');
    await controls.getByRole('button', { name: 'Resume customer' }).waitFor({ timeout: STEP_MS });
    await pressOnPage(a.page, 'm');
    await controls.getByRole('button', { name: 'Unmute me' }).waitFor({ timeout: STEP_MS });
    await checkA11y(a.page, 'dashboard, on a call, customer held, agent muted');

    // Letters typed into a field are text, not commands.
    const callerField = a.page.getByLabel('Caller number (optional)');
    await callerField.fill('');
    await callerField.pressSequentially('hme');
    assert.equal(await callerField.inputValue(), 'hme');
    assert.equal(await controls.getByRole('button', { name: 'Resume customer' }).count(), 1, 'still on hold');
    assert.equal(await controls.getByRole('button', { name: 'Unmute me' }).count(), 1, 'still muted');
    await callerField.fill('');

    // H and M again: resumed and unmuted.
    await pressOnPage(a.page, 'h');
    await controls.getByRole('button', { name: 'Hold customer' }).waitFor({ timeout: STEP_MS });
    await pressOnPage(a.page, 'm');
    await controls.getByRole('button', { name: 'Mute me' }).waitFor({ timeout: STEP_MS });

    // T puts focus on the transfer targets.
    await pressOnPage(a.page, 't');
    await until('focus is on a transfer target', () =>
      a.page.evaluate(() => document.activeElement?.getAttribute('aria-keyshortcuts') === 'T' && document.activeElement.type === 'radio'),
    );

    // ?: the list, as a modal dialog that keeps focus until Escape.
    const shortcutsButton = a.page.getByRole('button', { name: 'Keyboard shortcuts' });
    await pressOnPage(a.page, '?');
    const help = a.page.getByRole('dialog', { name: 'Keyboard shortcuts' });
    await help.waitFor();
    assert.equal(await help.getAttribute('aria-modal'), 'true');
    assert.match(await help.innerText(), /Answer the ringing call[\s\S]*Hold or resume the customer/);
    await screenshot(a.page, 'desktop-3-shortcuts-help');
    await checkA11y(a.page, 'shortcut help dialog');
    for (let i = 0; i < 3; i++) {
      await a.page.keyboard.press('Tab');
      assert.ok(await help.evaluate((el) => el.contains(document.activeElement)), 'Tab keeps focus in the dialog');
    }
    await a.page.keyboard.press('h');
    assert.equal(await controls.getByRole('button', { name: 'Hold customer' }).count(), 1, 'no shortcut behind the dialog');
    await a.page.keyboard.press('Escape');
    await help.waitFor({ state: 'detached' });
    // Opened with the keyboard from nowhere, closing leaves focus on the page, not lost in a removed node.
    assert.ok(await a.page.evaluate(() => document.activeElement !== null && document.contains(document.activeElement)));
    await shortcutsButton.click();
    await help.waitFor();
    await a.page.keyboard.press('Escape');
    await help.waitFor({ state: 'detached' });
    assert.ok(await shortcutsButton.evaluate((el) => el === document.activeElement), 'focus returns to the Shortcuts button');

    // E ends the call.
    await pressOnPage(a.page, 'e');
    await a.page.getByTestId('no-call').waitFor({ timeout: STEP_MS });
    assert.deepEqual(await presenceBox(a.page), idleBox, 'the status buttons are back where they were');
    await checkA11y(a.page, 'dashboard after the call');

    // The other pages, with the call in them.
    await a.page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'History' }).click();
    const row = a.page.getByRole('row').filter({ hasText: CALLER.slice(-4) }).first();
    await row.waitFor({ timeout: STEP_MS });
    await checkA11y(a.page, 'history');
    await row.getByRole('link').first().click();
    await a.page.getByTestId('timeline').waitFor({ timeout: STEP_MS });
    await checkA11y(a.page, 'call detail');

    assert.deepEqual(a.problems, [], 'no page errors');
  } catch (err) {
    await screenshot(a.page, 'desktop-failure').catch(() => {});
    throw err;
  } finally {
    await offline(a);
  }
});

test('audio settings, the microphone asked for on going available, and a reload during a call', async (t) => {
  if (skipReason) {
    t.skip(skipReason);
    return;
  }
  const opened = await openPage(browser);
  const { page, context } = opened;
  // Count microphone requests (Chromium grants them: --use-fake-ui-for-media-stream).
  await context.addInitScript(() => {
    window.__micAsks = 0;
    const media = navigator.mediaDevices;
    const original = media.getUserMedia.bind(media);
    media.getUserMedia = (constraints) => {
      if (constraints?.audio) window.__micAsks++;
      return original(constraints);
    };
  });
  await page.goto('/');
  await signIn(page, 'agent2@example.com', env.agentPassword);
  await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
  const session = await page.evaluate(() => JSON.parse(window.localStorage.getItem('warm-transfer.session')));
  const agent = { context, token: session.token };
  const micAsks = () => page.evaluate(() => window.__micAsks);
  const CALLER = '+15551230902';
  try {
    assert.equal(await micAsks(), 0, 'no microphone request on page load');
    const panel = page.getByRole('region', { name: 'Audio settings' });
    const microphone = panel.getByLabel('Microphone');
    await goAvailable(page, STEP_MS);
    assert.equal(await micAsks(), 1, 'the microphone is asked for when going available');

    // Chromium's fake devices are listed by name once the microphone is allowed.
    await until('the fake microphones are listed', async () => (await microphone.locator('option').count()) >= 2);
    const names = await microphone.locator('option').allInnerTexts();
    assert.ok(names.some((n) => /fake/i.test(n)), `fake microphones named: ${names.join(', ')}`);
    const chosen = await microphone.locator('option').nth(1).getAttribute('value');
    await microphone.selectOption(chosen);
    await panel.getByRole('button', { name: 'Play test tone' }).click();
    await panel.getByTestId('audio-notice').filter({ hasText: /Test tone played|could not|blocked/ }).waitFor({ timeout: STEP_MS });
    assert.match(await panel.getByTestId('audio-notice').innerText(), /Test tone played/);
    await screenshot(page, 'desktop-4-audio-settings');
    await checkA11y(page, 'dashboard with audio settings');

    // A call rings: no new microphone request while it rings.
    await simulateCall(page, CALLER);
    const region = await ringing(page, CALLER);
    assert.equal(await micAsks(), 1, 'no microphone request while a call rings');
    await region.getByRole('button', { name: 'Accept' }).click();
    const call = page.getByTestId('active-call');
    await call.locator('[data-participant-kind="customer"]').filter({ hasText: 'Talking' }).waitFor({ timeout: STEP_MS });
    await call.getByText('Audio in this browser').waitFor();

    // Reload during the call: the call goes on; the page says so and takes the audio back.
    // This tab holds the leg's audio, and remembers which call it is in.
    await until('the tab remembers the leg', () =>
      page.evaluate(() => JSON.parse(window.sessionStorage.getItem('warm-transfer.audio-leg') ?? 'null')?.callId ?? null),
    );
    await page.reload();
    const notice = page.getByTestId('reloaded-call');
    await notice.waitFor({ timeout: STEP_MS });
    assert.match(await notice.innerText(), /Your call is still going/);
    await call.getByText('Audio stopped by the page reload').waitFor();
    // The microphone choice survived the reload.
    assert.equal(await page.getByRole('region', { name: 'Audio settings' }).getByLabel('Microphone').inputValue(), chosen);
    await screenshot(page, 'desktop-5-reload-mid-call');
    await checkA11y(page, 'dashboard after a reload during a call');
    await notice.getByRole('button', { name: 'Reconnect audio' }).click();
    await call.getByText('Audio in this browser').waitFor({ timeout: STEP_MS });
    assert.equal(await notice.count(), 0, 'the notice goes once the audio is back');
    await screenshot(page, 'desktop-6-audio-reconnected');

    // The reconnected leg behaves as any: the customer hangs up, the page sees the call end.
    await call.getByRole('button', { name: 'Hang up as customer', exact: true }).click();
    await page.getByTestId('no-call').waitFor({ timeout: STEP_MS });
    assert.deepEqual(opened.problems, [], 'no page errors');
  } catch (err) {
    await screenshot(page, 'desktop-audio-failure').catch(() => {});
    throw err;
  } finally {
    await offline(agent);
  }
});

test('signed-out and admin pages pass axe', async () => {
  const { context, page, problems } = await openPage(browser);
  try {
    await page.goto('/');
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await checkA11y(page, 'sign-in');
    await signIn(page, env.adminEmail, 'not the password');
    await page.getByRole('alert').waitFor();
    await checkA11y(page, 'sign-in, wrong password');
    await signIn(page, env.adminEmail, env.adminPassword);
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
    await checkA11y(page, 'admin dashboard');
    await page.getByRole('link', { name: 'Agents' }).click();
    await page.getByRole('form', { name: 'Dialing policy' }).waitFor();
    await checkA11y(page, 'admin: agents, lists, policies');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'History' }).click();
    await page.getByRole('heading', { name: 'Call history' }).waitFor();
    await checkA11y(page, 'admin: history');
    assert.deepEqual(problems, [], 'no page errors');
  } finally {
    await context.close();
  }
});
