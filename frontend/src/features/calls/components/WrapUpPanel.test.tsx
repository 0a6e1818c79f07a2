import { render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import type { AgentView } from '@/api';
import { ApiProvider } from '@/api/provider';
import { fakeApi } from '@/testing/fake-backend';
import { jsonResponse, makeAgent, makeCall } from '@/testing/fixtures';
import { WrapUpPanel } from './WrapUpPanel';

const CALL_ID = '00000000-0000-4000-8000-000000000042';
const dispositions = [
  { code: 'resolved', label: 'Resolved', active: true },
  { code: 'follow_up', label: 'Follow-up needed', active: true },
];
const settings = { wrap_up_seconds: 60, extension_seconds: 30, require_disposition: true, updated_at: null, updated_by: null };

function wrapping(extended = false): AgentView {
  return makeAgent({
    status: 'wrap_up',
    wrap_up: { call_id: CALL_ID, until: new Date(Date.now() + 45_000).toISOString(), extended },
  });
}

function mount(me: AgentView, onChange: (a: AgentView) => void = () => {}) {
  const filed: { body?: unknown } = {};
  const { api, calls } = fakeApi({
    'GET /api/calls/:id': () => jsonResponse(200, makeCall({ id: CALL_ID, disposition_detail: null })),
    'PUT /api/calls/:id/disposition': (_r, body) => {
      filed.body = body;
      const b = body as { code: string | null; notes: string | null };
      return jsonResponse(200, { code: b.code, label: 'Resolved', notes: b.notes, by: me.id, at: new Date().toISOString() });
    },
    'POST /api/me/wrap-up/finish': () => jsonResponse(200, { ...me, status: 'available', wrap_up: null }),
    'POST /api/me/wrap-up/extend': () => jsonResponse(200, { ...me, wrap_up: { ...me.wrap_up, extended: true } }),
  });
  render(
    <ApiProvider client={api}>
      <WrapUpPanel me={me} settings={settings} dispositions={dispositions} onChange={onChange} />
    </ApiProvider>,
  );
  return { calls, filed };
}

describe('WrapUpPanel', () => {
  it('counts down, and blocks Finish until the required disposition is filed', async () => {
    const user = userEvent.setup();
    const changed: AgentView[] = [];
    const { calls, filed } = mount(wrapping(), (a) => changed.push(a));
    const panel = screen.getByRole('region', { name: 'Wrap-up' });
    expect(within(panel).getByTestId('wrap-up-countdown').textContent).toMatch(/^0:4[45]$/);
    const finish = within(panel).getByRole('button', { name: 'Finish wrap-up' });
    expect(finish).toBeDisabled();
    expect(within(panel).getByTestId('wrap-up-blocked').textContent).toMatch(/Choose a disposition/);

    await user.selectOptions(within(panel).getByLabelText('Disposition'), 'resolved');
    await user.type(within(panel).getByLabelText('Notes'), 'Refund issued');
    await user.click(within(panel).getByRole('button', { name: 'Save disposition' }));
    await waitFor(() => expect(finish).toBeEnabled());
    expect(filed.body).toEqual({ code: 'resolved', notes: 'Refund issued' });

    await user.click(finish);
    await waitFor(() => expect(changed.map((a) => a.status)).toEqual(['available']));
    expect(calls).toContain('POST /api/me/wrap-up/finish');
  });

  it('refuses notes the server would refuse without sending them', async () => {
    const user = userEvent.setup();
    const { calls } = mount(wrapping());
    const panel = screen.getByRole('region', { name: 'Wrap-up' });
    await user.type(within(panel).getByLabelText('Notes'), 'bell');
    // A control character cannot be typed; paste it.
    await user.click(within(panel).getByLabelText('Notes'));
    await user.paste('\u0007');
    await user.click(within(panel).getByRole('button', { name: 'Save disposition' }));
    expect(await within(panel).findByText('Notes must not contain control characters.')).toBeInTheDocument();
    expect(calls.filter((c) => c.startsWith('PUT'))).toEqual([]);
  });

  it('offers Extend once', async () => {
    const user = userEvent.setup();
    const changed: AgentView[] = [];
    mount(wrapping(), (a) => changed.push(a));
    const panel = screen.getByRole('region', { name: 'Wrap-up' });
    await user.click(within(panel).getByRole('button', { name: 'Extend by 0:30' }));
    await waitFor(() => expect(changed[0]?.wrap_up?.extended).toBe(true));
  });

  it('has no Extend button once extended', () => {
    mount(wrapping(true));
    const panel = screen.getByRole('region', { name: 'Wrap-up' });
    expect(within(panel).queryByRole('button', { name: /^Extend/ })).toBeNull();
    expect(within(panel).getByText(/Extended once/)).toBeInTheDocument();
  });
});
