// An admin changes the dialing policy on the Agents page: a country code the numbering plan does
// not know is refused with the server's message under its field and nothing is saved; a valid
// policy is saved and read back through the API, then the default limits are put back.
import { after, before, test } from 'node:test';
import { api, assert, checkA11y, env, launchBrowser, openPage, screenshot, signIn, storedSession } from './lib.mjs';

let browser;

before(async () => {
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
});

test('admin edits the dialing policy; an unknown country code is refused under its field', async () => {
  const { context, page, problems } = await openPage(browser);
  try {
    await page.goto('/');
    await signIn(page, env.adminEmail, env.adminPassword);
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
    const { token } = await storedSession(page);
    const before = await api('/api/dialing-policy', { token });
    assert.equal(before.status, 200, before.text);

    await page.getByRole('link', { name: 'Agents' }).click();
    const form = page.getByRole('form', { name: 'Dialing policy' });
    await form.waitFor();
    const codes = form.getByLabel('Allowed country codes');
    assert.equal(await codes.inputValue(), before.json.allowed_country_codes.join(', '));

    await codes.fill(`${before.json.home_country_code}, 999`);
    await form.getByRole('button', { name: 'Save dialing policy' }).click();
    await form.getByText('999 is not a country calling code').waitFor();
    assert.equal(await codes.getAttribute('aria-invalid'), 'true');
    const unchanged = await api('/api/dialing-policy', { token });
    assert.deepEqual(unchanged.json, before.json, 'nothing saved');
    await screenshot(page, 'dialing-policy-01-invalid');
    await checkA11y(page, 'dialing-policy-01-invalid');

    await codes.fill(`${before.json.home_country_code}, 44`);
    await form.getByLabel('Dials per call').fill('4');
    await form.getByRole('button', { name: 'Save dialing policy' }).click();
    await form.getByText(/Dialing policy saved/).waitFor();
    const saved = await api('/api/dialing-policy', { token });
    assert.deepEqual(saved.json.allowed_country_codes, [before.json.home_country_code, 44].sort((a, b) => a - b));
    assert.equal(saved.json.max_dials_per_call, 4);
    assert.equal(saved.json.is_default, false);
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
    assert.equal(restore.status, 200, restore.text);
    assert.deepEqual(problems, [], 'no page errors');
  } catch (err) {
    await screenshot(page, 'dialing-policy-failure').catch(() => {});
    throw err;
  } finally {
    await context.close();
  }
});
