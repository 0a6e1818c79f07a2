// Sign in as the seeded admin, survive a reload, change presence, sign out, and see the error
// for a wrong password. Screenshots go to e2e-artifacts/.
import { after, before, test } from 'node:test';
import {
  api,
  assert,
  checkA11y,
  env,
  launchBrowser,
  openPage,
  screenshot,
  SESSION_KEY,
  signIn,
  storedSession,
  VIEWPORTS,
} from './lib.mjs';

let browser;

before(async () => {
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
});

test('admin signs in, stays signed in across a reload, signs out; a wrong password shows the error', async () => {
  const { context, page, problems } = await openPage(browser);
  try {
    const config = await api('/api/config');
    assert.equal(config.status, 200, `GET /api/config: ${config.text}`);

    // The SPA is served by the backend and starts signed out.
    await page.goto('/');
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    const demoBanner = page.getByRole('note', { name: 'Demo mode' });
    if (config.json.mode === 'demo') {
      await demoBanner.waitFor();
      assert.match(await demoBanner.innerText(), /DEMO/);
    } else {
      assert.equal(await demoBanner.count(), 0, 'no DEMO banner in live mode');
    }
    await screenshot(page, 'auth-01-sign-in');
    await checkA11y(page, 'auth-01-sign-in');

    // Sign in.
    await signIn(page, env.adminEmail, env.adminPassword);
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
    const session = await storedSession(page);
    assert.ok(session?.token, 'session stored in localStorage');

    // The header shows the admin as the server knows them.
    const me = await api('/api/me', { token: session.token });
    assert.equal(me.status, 200, `GET /api/me: ${me.text}`);
    assert.equal(me.json.email, env.adminEmail);
    assert.equal(me.json.role, 'admin');
    const header = page.getByRole('banner');
    assert.equal((await header.getByTestId('agent-name').innerText()).trim(), me.json.display_name);
    assert.equal((await header.getByTestId('agent-role').innerText()).trim(), 'Admin');
    await screenshot(page, 'auth-02-dashboard-1280');
    await checkA11y(page, 'auth-02-dashboard-1280');
    await assertSignOutBesidePresence(page, 'desktop');
    await page.setViewportSize(VIEWPORTS.tablet);
    await screenshot(page, 'auth-03-dashboard-768');
    await checkA11y(page, 'auth-03-dashboard-768');
    await assertSignOutBesidePresence(page, 'tablet');
    await page.setViewportSize(VIEWPORTS.phone);
    await assertSignOutBesidePresence(page, 'phone');
    await page.setViewportSize(VIEWPORTS.desktop);

    // A reload keeps the session.
    await page.reload();
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
    assert.equal((await header.getByTestId('agent-name').innerText()).trim(), me.json.display_name);

    // Presence in one click, confirmed by the server.
    const presence = page.getByRole('group', { name: 'Your status' });
    const away = presence.getByRole('button', { name: 'Away' });
    await away.click();
    await page.waitForFunction(
      () => document.querySelector('[aria-label="Your status"] [aria-pressed="true"]')?.textContent?.includes('Away'),
    );
    const afterAway = await api('/api/me', { token: session.token });
    assert.equal(afterAway.json.status, 'away');
    await screenshot(page, 'auth-04-away');
    await checkA11y(page, 'auth-04-away');

    // Sign out: back to the sign-in page, session gone, and the old token is dead.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    assert.equal(await page.evaluate((key) => localStorage.getItem(key), SESSION_KEY), null);
    const revoked = await api('/api/me', { token: session.token });
    assert.equal(revoked.status, 401, 'the token no longer works after sign-out');
    await page.reload();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();

    // A wrong password shows the backend's message.
    await signIn(page, env.adminEmail, `${env.adminPassword}-wrong`);
    const alert = page.getByRole('alert');
    await alert.waitFor();
    assert.equal(await alert.getAttribute('data-code'), 'invalid_credentials');
    assert.ok((await alert.innerText()).trim().length > 0, 'the error has a message');
    assert.equal(await page.getByRole('heading', { name: 'Dashboard' }).count(), 0);
    await screenshot(page, 'auth-05-wrong-password');
    await checkA11y(page, 'auth-05-wrong-password');

    assert.deepEqual(problems, [], 'no page errors');
  } catch (err) {
    await screenshot(page, 'auth-failure').catch(() => {});
    throw err;
  } finally {
    await context.close();
  }
});

/**
 * The admin's header is the widest (four links): however it wraps, Sign out stays on the row of the
 * away reason, never on a row of its own, and nothing in the header is wider than the window.
 */
async function assertSignOutBesidePresence(page, viewport) {
  const header = page.getByRole('banner');
  const signOut = await header.getByRole('button', { name: 'Sign out' }).boundingBox();
  const reason = await header.getByTestId('away-reason').boundingBox();
  const middle = (box) => box.y + box.height / 2;
  assert.ok(Math.abs(middle(signOut) - middle(reason)) < 8, `${viewport}: Sign out at y=${signOut.y}, away reason at y=${reason.y}`);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  // What sticks out, to name it in the failure.
  const wide = await page.evaluate(() =>
    [...document.querySelectorAll('body *')]
      .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 0.5)
      .slice(0, 8)
      .map((e) => `${e.tagName.toLowerCase()}.${e.className}`)
      .join(' '),
  );
  assert.ok(overflow <= 0, `${viewport}: the page is ${overflow}px wider than the window: ${wide}`);
}
