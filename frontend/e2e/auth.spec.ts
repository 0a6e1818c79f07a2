// Sign in as the seeded admin, survive a reload, change presence, sign out, and see the error
// for a wrong password. Screenshots go to e2e-artifacts/.
import type { Page } from '@playwright/test';
import { api, env, expect, screenshot, SESSION_KEY, signIn, storedSession, test, VIEWPORTS } from './fixtures';

test('admin signs in, stays signed in across a reload, signs out; a wrong password shows the error', async ({
  openPage,
  checkA11y,
}) => {
  const { page, problems } = await openPage({ label: 'admin' });
  const config = await api('/api/config');
  expect(config.status, `GET /api/config: ${config.text}`).toBe(200);

  // The SPA is served by the backend and starts signed out.
  await page.goto('/');
  await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
  const demoBanner = page.getByRole('note', { name: 'Demo mode' });
  if (config.json.mode === 'demo') {
    await expect(demoBanner).toBeVisible();
    await expect(demoBanner).toContainText('DEMO', { useInnerText: true });
  } else {
    await expect(demoBanner, 'no DEMO banner in live mode').toHaveCount(0);
  }
  await screenshot(page, 'auth-01-sign-in');
  await checkA11y(page, 'auth-01-sign-in');

  // Sign in.
  await signIn(page, env.adminEmail, env.adminPassword);
  await expect(page.getByRole('heading', { name: 'Dashboard' })).toBeVisible();
  const session = await storedSession(page);
  expect(session?.token, 'session stored in localStorage').toBeTruthy();

  // The header shows the admin as the server knows them.
  const me = await api('/api/me', { token: session.token });
  expect(me.status, `GET /api/me: ${me.text}`).toBe(200);
  expect(me.json.email).toBe(env.adminEmail);
  expect(me.json.role).toBe('admin');
  const header = page.getByRole('banner');
  await expect(header.getByTestId('agent-name')).toHaveText(me.json.display_name, { useInnerText: true });
  await expect(header.getByTestId('agent-role')).toHaveText('Admin', { useInnerText: true });
  await screenshot(page, 'auth-02-dashboard-1280');
  await checkA11y(page, 'auth-02-dashboard-1280');
  await expectSignOutBesidePresence(page, 'desktop');
  await page.setViewportSize(VIEWPORTS.tablet);
  await screenshot(page, 'auth-03-dashboard-768');
  await checkA11y(page, 'auth-03-dashboard-768');
  await expectSignOutBesidePresence(page, 'tablet');
  await page.setViewportSize(VIEWPORTS.phone);
  await expectSignOutBesidePresence(page, 'phone');
  await page.setViewportSize(VIEWPORTS.desktop);

  // A reload keeps the session.
  await page.reload();
  await expect(page.getByRole('heading', { name: 'Dashboard' })).toBeVisible();
  await expect(header.getByTestId('agent-name')).toHaveText(me.json.display_name, { useInnerText: true });

  // Presence in one click, confirmed by the server.
  const presence = page.getByRole('group', { name: 'Your status' });
  await presence.getByRole('button', { name: 'Away' }).click();
  await expect(presence.locator('[aria-pressed="true"]')).toContainText('Away', { useInnerText: true });
  const afterAway = await api('/api/me', { token: session.token });
  expect(afterAway.json.status).toBe('away');
  await screenshot(page, 'auth-04-away');
  await checkA11y(page, 'auth-04-away');

  // Sign out: back to the sign-in page, session gone, and the old token is dead.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
  expect(await page.evaluate((key) => localStorage.getItem(key), SESSION_KEY)).toBeNull();
  const revoked = await api('/api/me', { token: session.token });
  expect(revoked.status, 'the token no longer works after sign-out').toBe(401);
  await page.reload();
  await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();

  // A wrong password shows the backend's message.
  await signIn(page, env.adminEmail, `${env.adminPassword}-wrong`);
  const alert = page.getByRole('alert');
  await expect(alert).toBeVisible();
  await expect(alert).toHaveAttribute('data-code', 'invalid_credentials');
  await expect(alert, 'the error has a message').toHaveText(/\S/, { useInnerText: true });
  await expect(page.getByRole('heading', { name: 'Dashboard' })).toHaveCount(0);
  await screenshot(page, 'auth-05-wrong-password');
  await checkA11y(page, 'auth-05-wrong-password');

  expect(problems, 'no page errors').toEqual([]);
});

/**
 * The admin's header is the widest (four links): however it wraps, Sign out stays on the row of the
 * away reason, never on a row of its own, and nothing on the page is wider than the window.
 */
async function expectSignOutBesidePresence(page: Page, viewport: string) {
  const header = page.getByRole('banner');
  const signOut = await header.getByRole('button', { name: 'Sign out' }).boundingBox();
  const reason = await header.getByTestId('away-reason').boundingBox();
  expect(signOut && reason, `${viewport}: Sign out and the away reason are shown`).toBeTruthy();
  const middle = (box: { y: number; height: number }) => box.y + box.height / 2;
  expect(Math.abs(middle(signOut!) - middle(reason!)), `${viewport}: Sign out on the away reason's row`).toBeLessThan(8);
  // What sticks out, named in the failure.
  const wide = await page.evaluate(() =>
    [...document.querySelectorAll('body *')]
      .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 0.5)
      .slice(0, 8)
      .map((e) => `${e.tagName.toLowerCase()}.${e.className}`),
  );
  expect(wide, `${viewport}: nothing wider than the window`).toEqual([]);
}
