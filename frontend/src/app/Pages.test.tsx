import { render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it } from 'vitest';
import type { CallEvent, CallSummary } from '@/api';
import { createApiClient } from '@/api/client';
import { createSessionStore } from '@/features/auth/session-store';
import { eventStream, fakeBackend, noContent, type Route } from '@/testing/fake-backend';
import { jsonResponse, makeAgent, makeCall, makeLogin, makeParticipant, MemoryStorage } from '@/testing/fixtures';
import { App } from './App';

const admin = makeAgent({ role: 'admin', display_name: 'Grace Admin', status: 'offline' });
const ada = makeAgent({ id: '5d0c3d0e-7c1b-4a8a-9a63-0d0d3c1f1b02', display_name: 'Ada Agent', email: 'ada2@example.com', status: 'available' });

function mount(routes: Record<string, Route>, hash: string) {
  window.location.hash = hash;
  const storage = new MemoryStorage();
  const seed = createSessionStore({ storage });
  seed.signIn(makeLogin(new Date(Date.now() + 3_600_000), { agent: admin }));
  seed.dispose();
  const { fetch, calls } = fakeBackend({
    'GET /api/config': () => jsonResponse(200, { mode: 'live', version: 'test' }),
    'GET /api/me': () => jsonResponse(200, admin),
    'GET /api/me/call': () => jsonResponse(200, { call: null }),
    'GET /api/queue': () => jsonResponse(200, { items: [], total: 0, limit: 50, next_cursor: null }),
    'GET /api/dialing-policy': () => jsonResponse(200, dialingDefaults),
    'GET /api/events': () => new Response(new ReadableStream(), { headers: { 'Content-Type': 'text/event-stream' } }),
    ...routes,
  });
  const session = createSessionStore({ storage });
  const api = createApiClient({ session, baseUrl: 'http://backend.test', fetch });
  render(<App services={{ session, api }} />);
  return { calls };
}

afterEach(() => {
  window.location.hash = '';
});

function summary(i: number): CallSummary {
  const { participants: _p, transfers: _t, timeline: _tl, ...s } = makeCall({
    id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    from_number: `+1555000${String(i).padStart(4, '0')}`,
    status: 'completed',
    duration_seconds: 60 + i,
  });
  return s;
}

describe('History', () => {
  it('filters, pages with the cursor, and opens a call with its timeline', async () => {
    const user = userEvent.setup();
    const { calls } = mount(
      {
        'GET /api/agents': () => jsonResponse(200, [admin, ada]),
        'GET /api/calls': (req) => {
          const cursor = new URL(req.url).searchParams.get('cursor');
          return cursor === 'page-2'
            ? jsonResponse(200, { items: [summary(3)], next_cursor: null })
            : jsonResponse(200, { items: [summary(1), summary(2)], next_cursor: 'page-2' });
        },
        'GET /api/calls/:id': () =>
          jsonResponse(
            200,
            makeCall({
              id: summary(3).id,
              from_number: '+15550000003',
              status: 'completed',
              participants: [makeParticipant({ status: 'left' })],
              transfers: [
                {
                  id: 't1', call_id: summary(3).id, mode: 'warm', status: 'completed', from_agent_id: admin.id, to_agent_id: ada.id,
                  to_number: null, target_participant_id: null, created_at: '2026-01-01T09:01:00Z', answered_at: '2026-01-01T09:01:05Z', ended_at: '2026-01-01T09:02:00Z', requeued: false,
                },
              ],
              timeline: [
                { id: 1, at: '2026-01-01T09:00:00Z', kind: 'call_received', data: { from: '+15550000003', to: '+15557654321' } },
                {
                  id: 2,
                  at: '2026-01-01T09:01:00Z',
                  kind: 'transfer_started',
                  data: { transfer_id: 't1', mode: 'warm', by: admin.id, to_agent_id: ada.id, to_number: null },
                },
                {
                  id: 3,
                  at: '2026-01-01T09:02:00Z',
                  kind: 'transfer_completed',
                  data: { transfer_id: 't1', mode: 'warm', to_agent_id: ada.id, to_number: null },
                },
                { id: 4, at: '2026-01-01T09:02:01Z', kind: 'unknown', data: { stored_kind: 'call_adopted', stored_data: {} } },
              ] satisfies CallEvent[],
            }),
          ),
      },
      '#/history',
    );

    // New filters remount the page (back to page 1), so always look the table up afresh.
    const table = () => screen.getByRole('table', { name: 'Calls' });
    await screen.findByRole('table', { name: 'Calls' });
    await within(table()).findByText('+15550000001');
    await user.selectOptions(screen.getByLabelText('Status'), 'completed');
    await user.selectOptions(screen.getByLabelText('Agent'), ada.id);
    await user.click(screen.getByRole('button', { name: 'Apply' }));
    await waitFor(() => expect(window.location.hash).toBe(`#/history?status=completed&agent_id=${ada.id}`));
    await waitFor(() => expect(calls.some((c) => c.includes(`status=completed`) && c.includes(`agent_id=${ada.id}`))).toBe(true));

    await user.click(screen.getByRole('button', { name: 'Older' }));
    await waitFor(() => expect(within(table()).getByText('+15550000003')).toBeInTheDocument());
    expect(calls.some((c) => c.includes('cursor=page-2'))).toBe(true);
    expect(screen.getByRole('button', { name: 'Older' })).toBeDisabled();
    await user.click(screen.getByRole('button', { name: 'Newer' }));
    await waitFor(() => expect(within(table()).getByText('+15550000001')).toBeInTheDocument());

    window.location.hash = `#/history/${summary(3).id}`;
    expect(await screen.findByRole('heading', { name: 'Call from +15550000003' })).toBeInTheDocument();
    const timeline = screen.getByTestId('timeline');
    expect(within(timeline).getByText('Grace Admin started a warm transfer to Ada Agent: ringing')).toBeInTheDocument();
    expect(within(timeline).getByText('Transfer to Ada Agent: completed')).toBeInTheDocument();
    expect(within(timeline).getByText('Unrecognised entry (call_adopted)')).toBeInTheDocument();
    // Raw fields wait behind each entry's Details toggle (a native <details>, closed).
    const started = within(timeline).getByText(/started a warm transfer/).closest('li')!;
    const details = started.querySelector('details')!;
    expect(details.open).toBe(false);
    await user.click(within(started).getByText('Details'));
    expect(details.open).toBe(true);
    expect(within(details).getByText('t1')).toBeVisible();
    expect(within(screen.getByTestId('transfers')).getByText('Ada Agent')).toBeInTheDocument();
  });
});

describe('History: live first page', () => {
  it('shows a new call on the first page without a reload, and holds a later page still', async () => {
    const user = userEvent.setup();
    const events = eventStream();
    let newest = [summary(1), summary(2)];
    const { calls } = mount(
      {
        'GET /api/agents': () => jsonResponse(200, [admin, ada]),
        'GET /api/events': events.route,
        'GET /api/calls': (req) =>
          new URL(req.url).searchParams.get('cursor') === 'page-2'
            ? jsonResponse(200, { items: [summary(3)], next_cursor: null })
            : jsonResponse(200, { items: newest, next_cursor: 'page-2' }),
      },
      '#/history',
    );
    const table = () => screen.getByRole('table', { name: 'Calls' });
    await within(await screen.findByRole('table', { name: 'Calls' })).findByText('+15550000001');
    await waitFor(() => expect(events.connections).toBeGreaterThan(0));

    newest = [summary(9), ...newest];
    events.send('call', { ...summary(9), status: 'queued' });
    expect(await within(table()).findByText('+15550000009', {}, { timeout: 3_000 })).toBeInTheDocument();

    await user.click(screen.getByRole('button', { name: 'Older' }));
    await within(table()).findByText('+15550000003');
    const firstPageLoads = () => calls.filter((c) => c.includes('/api/calls') && !c.includes('cursor=')).length;
    const before = firstPageLoads();
    events.send('call', { ...summary(10), status: 'queued' });
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(firstPageLoads()).toBe(before);
    expect(within(table()).getByText('+15550000003')).toBeInTheDocument();
  });
});

describe('History: who handled each call', () => {
  it('shows handling agents and transfers per row, and says whose calls an agent filter shows', async () => {
    const handled: CallSummary = {
      ...summary(7),
      owner_name: 'Ada Agent',
      handled_by: [
        { id: admin.id, name: 'Grace Admin', joined: false },
        { id: ada.id, name: 'Ada Agent', joined: true },
      ],
      transfer_summary: [
        { mode: 'warm', status: 'canceled', from_agent_id: ada.id, to_agent_id: admin.id, to_name: 'Grace Admin', to_number: null },
        { mode: 'cold', status: 'completed', from_agent_id: ada.id, to_agent_id: null, to_name: null, to_number: '+14155550123' },
      ],
    };
    const alone: CallSummary = { ...summary(8), owner_name: null, status: 'abandoned', duration_seconds: null };
    const { calls } = mount(
      {
        'GET /api/agents': () => jsonResponse(200, [admin, ada]),
        'GET /api/calls': () => jsonResponse(200, { items: [handled, alone], next_cursor: null }),
      },
      `#/history?agent_id=${ada.id}`,
    );
    expect(await screen.findByText('Calls Ada Agent handled (any leg)')).toBeInTheDocument();
    const table = screen.getByRole('table', { name: 'Calls' });
    expect(within(table).getByRole('columnheader', { name: 'Handled by' })).toBeInTheDocument();
    expect(within(table).getByRole('columnheader', { name: 'Transfers' })).toBeInTheDocument();
    const row = await waitFor(() => {
      const found = table.querySelector(`tr[data-call-id="${handled.id}"]`);
      expect(found).not.toBeNull();
      return found as HTMLElement;
    });
    expect(within(row).getByText('Grace Admin (rang), Ada Agent')).toBeInTheDocument();
    expect(within(row).getByText('warm to Grace Admin (canceled); cold to +14155550123')).toBeInTheDocument();
    const empty = table.querySelector(`tr[data-call-id="${alone.id}"]`) as HTMLElement;
    expect(within(empty).getAllByText('—').length).toBeGreaterThanOrEqual(2);
    expect(calls.some((c) => c.includes(`agent_id=${ada.id}`))).toBe(true);
  });
});

describe('Admin: agents', () => {
  it('creates an agent (showing a field error first), edits, and deactivates with confirmation', async () => {
    const user = userEvent.setup();
    let agents = [admin, ada];
    const patches: unknown[] = [];
    mount(
      {
        'GET /api/agents': () => jsonResponse(200, agents),
        'POST /api/agents': (_r, body) => {
          const b = body as { email: string; display_name: string; password: string };
          if (b.password.length < 10) {
            return jsonResponse(422, { code: 'validation_failed', message: 'password: at least 10 characters', field: 'password' });
          }
          const created = makeAgent({ id: 'new-agent', email: b.email, display_name: b.display_name });
          agents = [...agents, created];
          return jsonResponse(201, created);
        },
        'PATCH /api/agents/:id': (_r, body, { id }) => {
          patches.push(body);
          agents = agents.map((a) => (a.id === id ? { ...a, ...(body as object) } : a));
          return jsonResponse(200, agents.find((a) => a.id === id));
        },
        'DELETE /api/agents/:id': (_r, _b, { id }) => {
          agents = agents.map((a) => (a.id === id ? { ...a, active: false } : a));
          return noContent();
        },
      },
      '#/admin',
    );

    await screen.findByRole('heading', { name: 'Agents' });
    const form = screen.getByRole('form', { name: 'Add an agent' });
    await user.type(within(form).getByLabelText('Name'), 'Lin New');
    await user.type(within(form).getByLabelText('Email'), 'lin@example.com');
    await user.type(within(form).getByLabelText('Password (10+ characters)'), 'short');
    await user.click(within(form).getByRole('button', { name: 'Add agent' }));
    expect(await within(form).findByText('password: at least 10 characters')).toBeInTheDocument();
    expect(within(form).getByLabelText('Password (10+ characters)')).toHaveAttribute('aria-invalid', 'true');
    await user.type(within(form).getByLabelText('Password (10+ characters)'), '-long-enough');
    await user.click(within(form).getByRole('button', { name: 'Add agent' }));
    expect(await screen.findByText(/Added Lin New/)).toBeInTheDocument();
    expect(await screen.findByRole('cell', { name: 'lin@example.com' })).toBeInTheDocument();

    await user.click(screen.getByRole('button', { name: 'Edit Ada Agent' }));
    const edit = screen.getByRole('form', { name: 'Edit Ada Agent' });
    await user.clear(within(edit).getByLabelText('Name'));
    await user.type(within(edit).getByLabelText('Name'), 'Ada Renamed');
    await user.selectOptions(within(edit).getByLabelText('Role'), 'admin');
    await user.click(within(edit).getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(patches).toEqual([{ display_name: 'Ada Renamed', role: 'admin' }]));

    await user.click(await screen.findByRole('button', { name: 'Deactivate Ada Renamed' }));
    await user.click(screen.getByRole('button', { name: 'Confirm deactivation' }));
    expect(await screen.findByText(/Deactivated Ada Renamed/)).toBeInTheDocument();
    expect(await screen.findByRole('button', { name: 'Reactivate' })).toBeInTheDocument();
  });

  it('lists away reasons with the inactive ones, adds one and deactivates one, reloading the list and the agents\' picker', async () => {
    const user = userEvent.setup();
    let reasons = [
      { code: 'lunch', label: 'Lunch', active: true },
      { code: 'gym', label: 'Gym', active: false },
    ];
    const { calls } = mount(
      {
        'GET /api/agents': () => jsonResponse(200, [admin, ada]),
        'GET /api/away-reasons': (request) => {
          const all = new URL(request.url).searchParams.get('include_inactive') === 'true';
          return jsonResponse(200, all ? reasons : reasons.filter((r) => r.active));
        },
        'POST /api/away-reasons': (_r, body) => {
          const b = body as { code: string; label: string };
          reasons = [...reasons, { ...b, active: true }];
          return jsonResponse(201, { ...b, active: true });
        },
        'PATCH /api/away-reasons/:code': (_r, body, { code }) => {
          reasons = reasons.map((r) => (r.code === code ? { ...r, ...(body as object) } : r));
          return jsonResponse(200, reasons.find((r) => r.code === code));
        },
      },
      '#/admin',
    );
    const list = await screen.findByRole('list', { name: 'Away reasons' });
    await within(list).findByRole('button', { name: 'Reactivate Gym' });
    expect(within(list).getAllByRole('listitem').find((li) => li.textContent?.includes('gym'))).toHaveTextContent('(inactive)');

    const form = screen.getByRole('form', { name: 'Add to Away reasons' });
    await user.type(within(form).getByLabelText('Code'), 'training');
    await user.type(within(form).getByLabelText('Label'), 'Training');
    await user.click(within(form).getByRole('button', { name: 'Add' }));
    await within(list).findByRole('button', { name: 'Deactivate Training' });
    // The agents' away-reason picker (active reasons only) is reloaded too.
    await waitFor(() => expect(within(screen.getByTestId('away-reason')).getByRole('option', { name: 'Training' })).toBeInTheDocument());

    await user.click(within(list).getByRole('button', { name: 'Deactivate Lunch' }));
    await within(list).findByRole('button', { name: 'Reactivate Lunch' });
    await waitFor(() => expect(within(screen.getByTestId('away-reason')).queryByRole('option', { name: 'Lunch' })).not.toBeInTheDocument());
    expect(calls.filter((c) => c === 'GET /api/away-reasons?include_inactive=true').length).toBeGreaterThanOrEqual(3);
  });

  it("unlocks an agent's sign-in and says so", async () => {
    const user = userEvent.setup();
    const unlocked: string[] = [];
    mount(
      {
        'GET /api/agents': () => jsonResponse(200, [admin, ada]),
        'POST /api/agents/:id/unlock': (_r, _b, { id }) => {
          unlocked.push(String(id));
          return noContent();
        },
      },
      '#/admin',
    );

    await user.click(await screen.findByRole('button', { name: 'Unlock sign-in for Ada Agent' }));
    expect(await screen.findByText(/Cleared Ada Agent's failed sign-ins/)).toBeInTheDocument();
    expect(unlocked).toEqual([ada.id]);
  });
});

const dialingDefaults = {
  allowed_country_codes: [1],
  allowed_prefixes: [],
  allowed_premium_prefixes: [],
  international_for_agents: false,
  max_dials_per_agent_per_hour: 10,
  max_dials_per_call: 3,
  home_country_code: 1,
  premium_prefixes: ['+808', '+870', '+881', '+882', '+883', '+979', '+1900', '+1976'],
  is_default: true,
  updated_at: null,
  updated_by: null,
};

describe('Admin: dialing policy', () => {
  const defaults = dialingDefaults;

  it('shows the default, refuses what cannot be sent, shows the server’s field error, then saves', async () => {
    const user = userEvent.setup();
    const puts: unknown[] = [];
    mount(
      {
        'GET /api/agents': () => jsonResponse(200, [admin, ada]),
        'GET /api/dialing-policy': () => jsonResponse(200, defaults),
        'PUT /api/dialing-policy': (_r, body) => {
          puts.push(body);
          const b = body as { allowed_country_codes: number[] };
          if (b.allowed_country_codes.includes(999)) {
            return jsonResponse(422, {
              code: 'validation_failed',
              message: 'allowed_country_codes: 999 is not a country calling code',
              field: 'allowed_country_codes',
            });
          }
          return jsonResponse(200, { ...defaults, ...(body as object), is_default: false, updated_at: '2026-11-30T12:00:00Z', updated_by: admin.id });
        },
      },
      '#/admin',
    );

    const form = await screen.findByRole('form', { name: 'Dialing policy' });
    expect(await within(form).findByText(/built-in default applies: numbers in \+1 only/)).toBeInTheDocument();
    const codes = within(form).getByLabelText('Allowed country codes');
    expect(codes).toHaveValue('1');

    // Not a number: refused in the browser, nothing sent.
    await user.clear(codes);
    await user.type(codes, '1, uk');
    await user.click(within(form).getByRole('button', { name: 'Save dialing policy' }));
    expect(await within(form).findByText('uk is not a country calling code such as 1 or 44')).toBeInTheDocument();
    expect(codes).toHaveAttribute('aria-invalid', 'true');
    expect(puts).toEqual([]);

    // The server's validation error lands under its field.
    await user.clear(codes);
    await user.type(codes, '1 999');
    await user.click(within(form).getByRole('button', { name: 'Save dialing policy' }));
    expect(await within(form).findByText('allowed_country_codes: 999 is not a country calling code')).toBeInTheDocument();
    expect(codes).toHaveAttribute('aria-invalid', 'true');

    await user.clear(codes);
    await user.type(codes, '1, +44');
    await user.type(within(form).getByLabelText('Also allowed prefixes'), '+4420');
    await user.click(within(form).getByLabelText(/Agents may dial international numbers/));
    const perCall = within(form).getByLabelText('Dials per call');
    await user.clear(perCall);
    await user.type(perCall, '5');
    await user.click(within(form).getByRole('button', { name: 'Save dialing policy' }));
    expect(await within(form).findByText(/Dialing policy saved/)).toBeInTheDocument();
    expect(puts[puts.length - 1]).toEqual({
      allowed_country_codes: [1, 44],
      allowed_prefixes: ['+4420'],
      allowed_premium_prefixes: [],
      international_for_agents: true,
      max_dials_per_agent_per_hour: 10,
      max_dials_per_call: 5,
    });
    expect(codes).not.toHaveAttribute('aria-invalid');
    expect(within(form).queryByText(/built-in default applies/)).not.toBeInTheDocument();
  });
});
