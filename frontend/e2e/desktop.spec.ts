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
import type { Page } from '@playwright/test';
import { env, expect, goAvailable, requireDemoCalls, ringing, screenshot, signIn, STEP_MS, test, until } from './fixtures';

const AGENT = 'agent1@example.com';

/** Where the status buttons are, rounded to whole pixels. */
async function presenceBox(page: Page) {
  const box = await page.getByRole('group', { name: 'Your status' }).boundingBox();
  expect(box, 'the status buttons are on screen').toBeTruthy();
  return Object.fromEntries(Object.entries(box ?? {}).map(([k, v]) => [k, Math.round(v)]));
}

/** Presses a key with nothing focused (as after clicking on the page's background). */
async function pressOnPage(page: Page, key: string) {
  await page.evaluate(() => (document.activeElement instanceof HTMLElement ? document.activeElement.blur() : undefined));
  await page.keyboard.press(key);
}

test('keyboard shortcuts and a presence control that does not move, with axe checks on each state', async ({
  demoCallsUnsupported,
  signInAgent,
  simulateCall,
  checkA11y,
}) => {
  requireDemoCalls(demoCallsUnsupported);
  const a = await signInAgent(AGENT);
  const CALLER = '+15551230901';
  await goAvailable(a.page, STEP_MS);
  const idleBox = await presenceBox(a.page);
  await checkA11y(a.page, 'dashboard, available, idle');

  await simulateCall(a.page, CALLER);
  const region = await ringing(a.page, CALLER);
  const ringingBox = await presenceBox(a.page);
  await screenshot(a.page, 'desktop-1-ringing');
  await checkA11y(a.page, 'dashboard, ringing');
  expect(ringingBox, 'the status buttons stay where they were when the call rings').toEqual(idleBox);
  await expect(region.getByRole('button', { name: 'Accept' })).toHaveAttribute('aria-keyshortcuts', 'A');

  // A answers.
  await pressOnPage(a.page, 'a');
  const call = a.page.getByTestId('active-call');
  await expect(call.locator('[data-participant-kind="customer"]').filter({ hasText: 'Talking' })).toBeVisible({ timeout: STEP_MS });
  const onCallBox = await presenceBox(a.page);
  expect(onCallBox, 'the status buttons stay where they were once on the call').toEqual(idleBox);
  await screenshot(a.page, 'desktop-2-presence-on-a-call');

  // H holds the customer, M mutes the agent.
  const controls = call.getByRole('group', { name: 'Call controls' });
  await pressOnPage(a.page, 'h');
  await expect(controls.getByRole('button', { name: 'Resume customer' })).toBeVisible({ timeout: STEP_MS });
  await pressOnPage(a.page, 'm');
  await expect(controls.getByRole('button', { name: 'Unmute me' })).toBeVisible({ timeout: STEP_MS });
  await checkA11y(a.page, 'dashboard, on a call, customer held, agent muted');

  // Letters typed into a field are text, not commands.
  const callerField = a.page.getByLabel('Caller number (optional)');
  await callerField.fill('');
  await callerField.pressSequentially('hme');
  await expect(callerField).toHaveValue('hme');
  await expect(controls.getByRole('button', { name: 'Resume customer' }), 'still on hold').toHaveCount(1);
  await expect(controls.getByRole('button', { name: 'Unmute me' }), 'still muted').toHaveCount(1);
  await callerField.fill('');

  // H and M again: resumed and unmuted.
  await pressOnPage(a.page, 'h');
  await expect(controls.getByRole('button', { name: 'Hold customer' })).toBeVisible({ timeout: STEP_MS });
  await pressOnPage(a.page, 'm');
  await expect(controls.getByRole('button', { name: 'Mute me' })).toBeVisible({ timeout: STEP_MS });

  // T puts focus on the transfer targets.
  await pressOnPage(a.page, 't');
  await until('focus is on a transfer target', () =>
    a.page.evaluate(
      () =>
        document.activeElement?.getAttribute('aria-keyshortcuts') === 'T' &&
        (document.activeElement as HTMLInputElement).type === 'radio',
    ),
  );

  // ?: the list, as a modal dialog that keeps focus until Escape.
  const shortcutsButton = a.page.getByRole('button', { name: 'Keyboard shortcuts' });
  await pressOnPage(a.page, '?');
  const help = a.page.getByRole('dialog', { name: 'Keyboard shortcuts' });
  await expect(help).toBeVisible();
  await expect(help).toHaveAttribute('aria-modal', 'true');
  await expect(help).toHaveText(/Answer the ringing call[\s\S]*Hold or resume the customer/, { useInnerText: true });
  await screenshot(a.page, 'desktop-3-shortcuts-help');
  await checkA11y(a.page, 'shortcut help dialog');
  for (let i = 0; i < 3; i++) {
    await a.page.keyboard.press('Tab');
    expect(await help.evaluate((el) => el.contains(document.activeElement)), 'Tab keeps focus in the dialog').toBe(true);
  }
  await a.page.keyboard.press('h');
  await expect(controls.getByRole('button', { name: 'Hold customer' }), 'no shortcut behind the dialog').toHaveCount(1);
  await a.page.keyboard.press('Escape');
  await expect(help).not.toBeAttached();
  // Opened with the keyboard from nowhere, closing leaves focus on the page, not lost in a removed node.
  expect(await a.page.evaluate(() => document.activeElement !== null && document.contains(document.activeElement))).toBe(true);
  await shortcutsButton.click();
  await expect(help).toBeVisible();
  await a.page.keyboard.press('Escape');
  await expect(help).not.toBeAttached();
  await expect(shortcutsButton, 'focus returns to the Shortcuts button').toBeFocused();

  // E ends the call.
  await pressOnPage(a.page, 'e');
  await expect(a.page.getByTestId('no-call')).toBeVisible({ timeout: STEP_MS });
  expect(await presenceBox(a.page), 'the status buttons are back where they were').toEqual(idleBox);
  await checkA11y(a.page, 'dashboard after the call');

  // The other pages, with the call in them.
  await a.page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'History' }).click();
  const row = a.page.getByRole('row').filter({ hasText: CALLER.slice(-4) }).first();
  await expect(row).toBeVisible({ timeout: STEP_MS });
  await checkA11y(a.page, 'history');
  await row.getByRole('link').first().click();
  await expect(a.page.getByTestId('timeline')).toBeVisible({ timeout: STEP_MS });
  await checkA11y(a.page, 'call detail');

  expect(a.problems, 'no page errors').toEqual([]);
});

test('audio settings, the microphone asked for on going available, and a reload during a call', async ({
  demoCallsUnsupported,
  signInAgent,
  simulateCall,
  checkA11y,
}) => {
  requireDemoCalls(demoCallsUnsupported);
  // Count microphone requests (Chromium grants them: --use-fake-ui-for-media-stream).
  const { page, problems } = await signInAgent('agent2@example.com', {
    init: (context) =>
      context.addInitScript(() => {
        const w = window as unknown as { __micAsks: number };
        w.__micAsks = 0;
        const media = navigator.mediaDevices;
        const original = media.getUserMedia.bind(media);
        media.getUserMedia = (constraints) => {
          if (constraints?.audio) w.__micAsks++;
          return original(constraints);
        };
      }),
  });
  const micAsks = () => page.evaluate(() => (window as unknown as { __micAsks: number }).__micAsks);
  const CALLER = '+15551230902';
  expect(await micAsks(), 'no microphone request on page load').toBe(0);
  const panel = page.getByRole('region', { name: 'Audio settings' });
  const microphone = panel.getByLabel('Microphone');
  await goAvailable(page, STEP_MS);
  expect(await micAsks(), 'the microphone is asked for when going available').toBe(1);

  // Chromium's fake devices are listed by name once the microphone is allowed.
  await expect.poll(() => microphone.locator('option').count(), { message: 'the fake microphones are listed' }).toBeGreaterThanOrEqual(2);
  const names = await microphone.locator('option').allInnerTexts();
  expect(names.some((n) => /fake/i.test(n)), `fake microphones named: ${names.join(', ')}`).toBe(true);
  const chosen = (await microphone.locator('option').nth(1).getAttribute('value')) ?? '';
  await microphone.selectOption(chosen);
  await panel.getByRole('button', { name: 'Play test tone' }).click();
  await expect(panel.getByTestId('audio-notice').filter({ hasText: /Test tone played|could not|blocked/ })).toBeVisible({ timeout: STEP_MS });
  await expect(panel.getByTestId('audio-notice')).toHaveText(/Test tone played/, { useInnerText: true });
  await screenshot(page, 'desktop-4-audio-settings');
  await checkA11y(page, 'dashboard with audio settings');

  // A call rings: no new microphone request while it rings.
  await simulateCall(page, CALLER);
  const region = await ringing(page, CALLER);
  expect(await micAsks(), 'no microphone request while a call rings').toBe(1);
  await region.getByRole('button', { name: 'Accept' }).click();
  const call = page.getByTestId('active-call');
  await expect(call.locator('[data-participant-kind="customer"]').filter({ hasText: 'Talking' })).toBeVisible({ timeout: STEP_MS });
  await expect(call.getByText('Audio in this browser')).toBeVisible();

  // Reload during the call: the call goes on; the page says so and takes the audio back.
  // This tab holds the leg's audio, and remembers which call it is in.
  await until('the tab remembers the leg', () =>
    page.evaluate(() => JSON.parse(window.sessionStorage.getItem('warm-transfer.audio-leg') ?? 'null')?.callId ?? null),
  );
  await page.reload();
  const notice = page.getByTestId('reloaded-call');
  await expect(notice).toBeVisible({ timeout: STEP_MS });
  await expect(notice).toHaveText(/Your call is still going/, { useInnerText: true });
  await expect(call.getByText('Audio stopped by the page reload')).toBeVisible();
  // The microphone choice survived the reload.
  await expect(page.getByRole('region', { name: 'Audio settings' }).getByLabel('Microphone')).toHaveValue(chosen);
  await screenshot(page, 'desktop-5-reload-mid-call');
  await checkA11y(page, 'dashboard after a reload during a call');
  await notice.getByRole('button', { name: 'Reconnect audio' }).click();
  await expect(call.getByText('Audio in this browser')).toBeVisible({ timeout: STEP_MS });
  await expect(notice, 'the notice goes once the audio is back').toHaveCount(0);
  await screenshot(page, 'desktop-6-audio-reconnected');

  // The reconnected leg behaves as any: the customer hangs up, the page sees the call end.
  await call.getByRole('button', { name: 'Hang up as customer', exact: true }).click();
  await expect(page.getByTestId('no-call')).toBeVisible({ timeout: STEP_MS });
  expect(problems, 'no page errors').toEqual([]);
});

test('signed-out and admin pages pass axe', async ({ openPage, checkA11y }) => {
  const { page, problems } = await openPage({ label: 'admin' });
  await page.goto('/');
  await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
  await checkA11y(page, 'sign-in');
  await signIn(page, env.adminEmail, 'not the password');
  await expect(page.getByRole('alert')).toBeVisible();
  await checkA11y(page, 'sign-in, wrong password');
  await signIn(page, env.adminEmail, env.adminPassword);
  await expect(page.getByRole('heading', { name: 'Dashboard' })).toBeVisible();
  await checkA11y(page, 'admin dashboard');
  await page.getByRole('link', { name: 'Agents' }).click();
  await expect(page.getByRole('form', { name: 'Dialing policy' })).toBeVisible();
  await checkA11y(page, 'admin: agents, lists, policies');
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'History' }).click();
  await expect(page.getByRole('heading', { name: 'Call history' })).toBeVisible();
  await checkA11y(page, 'admin: history');
  expect(problems, 'no page errors').toEqual([]);
});
