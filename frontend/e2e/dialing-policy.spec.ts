// An admin changes the dialing policy on the Agents page: a country code the numbering plan does
// not know is refused with the server's message under its field and nothing is saved; a valid
// policy is saved and read back through the API, then the default limits are put back.
import { api, env, expect, screenshot, signIn, storedSession, test } from './fixtures';

test('admin edits the dialing policy; an unknown country code is refused under its field', async ({
  openPage,
  checkA11y,
}) => {
  const { page, problems } = await openPage({ label: 'admin' });
  await page.goto('/');
  await signIn(page, env.adminEmail, env.adminPassword);
  await expect(page.getByRole('heading', { name: 'Dashboard' })).toBeVisible();
  const { token } = await storedSession(page);
  const before = await api('/api/dialing-policy', { token });
  expect(before.status, before.text).toBe(200);

  await page.getByRole('link', { name: 'Agents' }).click();
  const form = page.getByRole('form', { name: 'Dialing policy' });
  await expect(form).toBeVisible();
  const codes = form.getByLabel('Allowed country codes');
  await expect(codes).toHaveValue(before.json.allowed_country_codes.join(', '));

  await codes.fill(`${before.json.home_country_code}, 999`);
  await form.getByRole('button', { name: 'Save dialing policy' }).click();
  await expect(form.getByText('999 is not a country calling code')).toBeVisible();
  await expect(codes).toHaveAttribute('aria-invalid', 'true');
  const unchanged = await api('/api/dialing-policy', { token });
  expect(unchanged.json, 'nothing saved').toEqual(before.json);
  await screenshot(page, 'dialing-policy-01-invalid');
  await checkA11y(page, 'dialing-policy-01-invalid');

  await codes.fill(`${before.json.home_country_code}, 44`);
  await form.getByLabel('Dials per call').fill('4');
  await form.getByRole('button', { name: 'Save dialing policy' }).click();
  await expect(form.getByText(/Dialing policy saved/)).toBeVisible();
  const saved = await api('/api/dialing-policy', { token });
  expect(saved.json.allowed_country_codes).toEqual([before.json.home_country_code, 44].sort((a, b) => a - b));
  expect(saved.json.max_dials_per_call).toBe(4);
  expect(saved.json.is_default).toBe(false);
  await screenshot(page, 'dialing-policy-02-saved');
  await checkA11y(page, 'dialing-policy-02-saved');

  // Leave the other specs the default destinations and limits.
  const restore = await api('/api/dialing-policy', {
    token,
    method: 'PUT',
    body: {
      allowed_country_codes: before.json.allowed_country_codes,
      allowed_prefixes: before.json.allowed_prefixes,
      allowed_premium_prefixes: before.json.allowed_premium_prefixes,
      international_for_agents: before.json.international_for_agents,
      max_dials_per_agent_per_hour: before.json.max_dials_per_agent_per_hour,
      max_dials_per_call: before.json.max_dials_per_call,
    },
  });
  expect(restore.status, restore.text).toBe(200);
  expect(problems, 'no page errors').toEqual([]);
});
