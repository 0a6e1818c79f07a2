import { render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it } from 'vitest';
import type { CallDetail, DemoRinging, Participant, Transfer } from '@/api';
import { createApiClient } from '@/api/client';
import { createSessionStore } from '@/features/auth/session-store';
import { fakeBackend, noContent, type Route } from '@/testing/fake-backend';
import { jsonResponse, makeAgent, makeCall, makeLogin, makeParticipant, MemoryStorage } from '@/testing/fixtures';
import { App } from './App';

const ada = makeAgent({ status: 'available' });
const bob = makeAgent({ id: '5d0c3d0e-7c1b-4a8a-9a63-0d0d3c1f1b02', display_name: 'Bob Builder', email: 'bob@example.com', client_identity: 'bob', status: 'available' });
const carol = makeAgent({ id: '5d0c3d0e-7c1b-4a8a-9a63-0d0d3c1f1c03', display_name: 'Carol Away', email: 'carol@example.com', client_identity: 'carol', status: 'away' });

/** A live event stream the test writes to. */
function eventStream() {
  const encoder = new TextEncoder();
  const controllers = new Set<ReadableStreamDefaultController<Uint8Array>>();
  return {
    route: (() =>
      new Response(
        new ReadableStream<Uint8Array>({
          start: (c) => void controllers.add(c),
          cancel: () => {},
        }),
        { headers: { 'Content-Type': 'text/event-stream' } },
      )) as Route,
    send(event: string, data: unknown) {
      for (const c of controllers) c.enqueue(encoder.encode(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`));
    },
  };
}

function mount(routes: Record<string, Route>) {
  const storage = new MemoryStorage();
  const seed = createSessionStore({ storage });
  seed.signIn(makeLogin(new Date(Date.now() + 3_600_000), { agent: ada }));
  seed.dispose();
  const { fetch, calls } = fakeBackend(routes);
  const session = createSessionStore({ storage });
  const api = createApiClient({ session, baseUrl: 'http://backend.test', fetch });
  render(<App services={{ session, api }} />);
  return { calls };
}

/** A small in-memory call-center backend in demo mode, enough for one call and a warm transfer. */
function demoBackend() {
  const events = eventStream();
  let ringing: DemoRinging[] = [];
  let call: CallDetail | null = null;
  let handedOver: CallDetail | null = null;
  const state = { hangups: [] as string[], transferBodies: [] as unknown[] };
  const customer = makeParticipant({ id: 'p-customer' });
  const adaLeg = makeParticipant({ id: 'p-ada', kind: 'agent', agent_id: ada.id, display_name: ada.display_name, phone: null, call_sid: 'CAada', end_conference_on_exit: true });

  const routes: Record<string, Route> = {
    'GET /api/config': () => jsonResponse(200, { mode: 'demo', version: 'test' }),
    'GET /api/me': () => jsonResponse(200, ada),
    'GET /api/agents': () => jsonResponse(200, [ada, bob, carol]),
    'GET /api/queue': () => jsonResponse(200, { items: [], total: 0, limit: 50, next_cursor: null }),
    'GET /api/events': events.route,
    'GET /api/me/call': () => jsonResponse(200, { call }),
    'GET /api/demo/ringing': () => jsonResponse(200, ringing),
    'POST /api/demo/ringing/:sid/accept': () => {
      ringing = [];
      call = makeCall({ participants: [customer, adaLeg] });
      return noContent();
    },
    'POST /api/demo/calls/:sid/hangup': (_r, _b, { sid }) => {
      state.hangups.push(sid!);
      return noContent();
    },
    'POST /api/calls/:id/participants/:pid/hold': (_r, body, { pid }) => {
      const { hold } = body as { hold: boolean };
      const updated = { ...call!.participants.find((p) => p.id === pid)!, on_hold: hold };
      call = { ...call!, participants: call!.participants.map((p) => (p.id === pid ? updated : p)) };
      return jsonResponse(200, updated);
    },
    'POST /api/calls/:id/transfers': (_r, body) => {
      state.transferBodies.push(body);
      const target = (body as { target: { agent_id?: string; phone_number?: string } }).target;
      if (target.phone_number) {
        return jsonResponse(422, { code: 'validation_failed', message: 'phone_number: must be in E.164 form, like +14155550123', field: 'target.phone_number' });
      }
      const transfer: Transfer = {
        id: 't-1', call_id: call!.id, mode: 'warm', status: 'dialing', from_agent_id: ada.id, to_agent_id: bob.id,
        to_number: null, target_participant_id: 'p-bob', created_at: new Date().toISOString(), answered_at: null, ended_at: null, requeued: false,
      };
      const bobLeg: Participant = makeParticipant({ id: 'p-bob', kind: 'agent', agent_id: bob.id, display_name: bob.display_name, phone: null, call_sid: 'CAbob', status: 'ringing', joined_at: null, end_conference_on_exit: false });
      call = { ...call!, transfers: [transfer], participants: [...call!.participants, bobLeg] };
      return jsonResponse(201, transfer);
    },
    'POST /api/calls/:id/transfers/:tid/complete': () => {
      const done = { ...call!.transfers[0]!, status: 'completed' as const };
      handedOver = { ...call!, transfers: [done] };
      call = null;
      return jsonResponse(200, done);
    },
    // The call as the server has it after Ada left it (the last-call notice follows it).
    'GET /api/calls/:id': () => (handedOver ? jsonResponse(200, handedOver) : jsonResponse(404, { code: 'not_found', message: 'call not found' })),
    'POST /api/calls/:id/hangup': () => jsonResponse(409, { code: 'conflict', message: 'The call has already ended.' }),
  };
  return {
    routes,
    events,
    state,
    ring: () => (ringing = [{ call_sid: 'CAada', from: '+15551230001', to: 'client:ada' }]),
    /** Ada is already on the call (answered before the page loaded). */
    onCall: () => (call = makeCall({ participants: [customer, adaLeg] })),
    bobAnswers: () => {
      call = {
        ...call!,
        transfers: [{ ...call!.transfers[0]!, status: 'consulting', answered_at: new Date().toISOString() }],
        participants: call!.participants.map((p) => (p.id === 'p-bob' ? { ...p, status: 'connected', joined_at: new Date().toISOString() } : p)),
      };
      events.send('call', { ...call, participants: undefined });
    },
  };
}

afterEach(() => {
  document.title = 'Warm Transfer';
});

describe('Dashboard (demo mode)', () => {
  it('rings, answers, holds the customer, warm-transfers to a live-picked agent and completes', async () => {
    const user = userEvent.setup();
    const backend = demoBackend();
    mount(backend.routes);

    // Available: the demo phone registers; the team is live.
    await waitFor(() => expect(screen.getByTestId('phone-status')).toHaveTextContent('Demo phone: Ready'));
    expect(await screen.findByText('Bob Builder')).toBeInTheDocument();

    backend.ring();
    const incoming = await screen.findByRole('region', { name: 'Incoming call' }, { timeout: 3_000 });
    expect(within(incoming).getByTestId('incoming-caller')).toHaveTextContent('+15551230001');
    expect(document.title).toMatch(/Incoming call/);
    await user.click(within(incoming).getByRole('button', { name: 'Accept' }));

    const active = await screen.findByRole('region', { name: 'Current call' });
    expect(within(active).getByTestId('call-caller')).toHaveTextContent('+15551230001');
    expect(within(active).getByText('Audio in this browser')).toBeInTheDocument();

    // Hold the customer.
    await user.click(within(active).getByRole('button', { name: 'Hold customer' }));
    await waitFor(() => expect(within(active).getByRole('button', { name: 'Resume customer' })).toBeInTheDocument());
    const customerRow = within(active).getAllByRole('listitem').find((li) => li.dataset.participantKind === 'customer')!;
    expect(within(customerRow).getByText('On hold')).toBeInTheDocument();

    // An away agent cannot be picked; Bob can.
    expect(within(active).getByRole('radio', { name: /Carol Away/ })).toBeDisabled();
    await user.click(within(active).getByRole('radio', { name: /Bob Builder/ }));
    await user.click(within(active).getByRole('button', { name: 'Start warm transfer' }));
    expect(backend.state.transferBodies).toEqual([{ mode: 'warm', target: { agent_id: bob.id }, hold_customer: true }]);
    const transferCard = await within(active).findByTestId('active-transfer');
    expect(transferCard).toHaveTextContent('Warm transfer to Bob Builder');
    expect(within(transferCard).getByRole('button', { name: 'Complete transfer' })).toBeDisabled();

    // Bob answers: the live event refreshes the call; complete becomes possible.
    backend.bobAnswers();
    await waitFor(() => expect(within(transferCard).getByRole('button', { name: 'Complete transfer' })).toBeEnabled());
    const bobRow = within(active).getAllByRole('listitem').find((li) => li.dataset.agentId === bob.id)!;
    expect(within(bobRow).getByText('Talking')).toBeInTheDocument();
    await user.click(within(transferCard).getByRole('button', { name: 'Complete transfer' }));

    expect(await screen.findByTestId('no-call', {}, { timeout: 3_000 })).toBeInTheDocument();
    // The notice follows the call as the server has it now (one request after the call left).
    await waitFor(() =>
      expect(screen.getByTestId('last-call')).toHaveTextContent('You handed the call from +15551230001 over to Bob Builder.'),
    );
  });

  it('keyboard: A answers, H holds, T goes to the transfer targets; typed letters and modified keys do nothing; ? lists them', async () => {
    const user = userEvent.setup();
    const backend = demoBackend();
    const { calls } = mount(backend.routes);
    await waitFor(() => expect(screen.getByTestId('phone-status')).toHaveTextContent('Demo phone: Ready'));
    expect(await screen.findByText('Bob Builder')).toBeInTheDocument();

    // Nothing to act on: the keys are harmless.
    await user.keyboard('aehmt');
    expect(screen.getByTestId('no-call')).toBeInTheDocument();

    backend.ring();
    const incoming = await screen.findByRole('region', { name: 'Incoming call' }, { timeout: 3_000 });
    expect(within(incoming).getByRole('button', { name: 'Accept' })).toHaveAttribute('aria-keyshortcuts', 'A');
    (document.activeElement as HTMLElement | null)?.blur();
    await user.keyboard('{Control>}a{/Control}');
    expect(screen.queryByTestId('active-call')).not.toBeInTheDocument();
    expect(calls.filter((c) => c.includes('/accept'))).toEqual([]);
    await user.keyboard('a');
    const active = await screen.findByRole('region', { name: 'Current call' });

    await user.keyboard('h');
    await waitFor(() => expect(within(active).getByRole('button', { name: 'Resume customer' })).toBeInTheDocument());

    // T: focus lands on the first agent who can take the call; letters typed in a field stay text.
    await user.keyboard('t');
    expect(within(active).getByRole('radio', { name: /Bob Builder/ })).toHaveFocus();
    await user.click(within(active).getByRole('radio', { name: 'A phone number' }));
    const number = within(active).getByLabelText('Phone number (E.164)');
    await user.type(number, 'hat');
    expect(number).toHaveValue('hat');
    expect(within(active).getByRole('button', { name: 'Resume customer' })).toBeInTheDocument();

    // ?: a modal dialog lists the shortcuts; focus stays inside it; Escape closes it and returns focus.
    const shortcutsButton = screen.getByRole('button', { name: 'Keyboard shortcuts' });
    shortcutsButton.focus();
    await user.keyboard('?');
    const help = screen.getByRole('dialog', { name: 'Keyboard shortcuts' });
    expect(help).toHaveAttribute('aria-modal', 'true');
    expect(within(help).getByRole('button', { name: 'Close' })).toHaveFocus();
    expect(help).toHaveTextContent('Hold or resume the customer');
    await user.keyboard('h'); // no shortcut fires behind the dialog
    expect(within(active).getByRole('button', { name: 'Resume customer' })).toBeInTheDocument();
    await user.tab();
    expect(within(help).getByRole('button', { name: 'Close' })).toHaveFocus();
    await user.keyboard('{Escape}');
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
    expect(shortcutsButton).toHaveFocus();
  });

  it('after a reload during a call: says the call is still going and reconnects the audio', async () => {
    const user = userEvent.setup();
    const backend = demoBackend();
    backend.onCall();
    // This tab held the audio before the reload.
    window.sessionStorage.setItem('warm-transfer.audio-leg', JSON.stringify({ callSid: 'CAada', callId: null }));
    mount(backend.routes);

    const notice = await screen.findByTestId('reloaded-call');
    expect(notice).toHaveTextContent(/Your call is still going\. The page was reloaded, .*\+15551230001 is still on the line/);
    const active = screen.getByTestId('active-call');
    expect(within(active).getByText('Audio stopped by the page reload')).toBeInTheDocument();
    await user.click(within(notice).getByRole('button', { name: 'Reconnect audio' }));
    await waitFor(() => expect(within(active).getByText('Audio in this browser')).toBeInTheDocument());
    expect(screen.queryByTestId('reloaded-call')).not.toBeInTheDocument();
    expect(JSON.parse(window.sessionStorage.getItem('warm-transfer.audio-leg')!)).toMatchObject({ callSid: 'CAada' });
  });

  it('a call whose audio is in another tab is not taken for a reload', async () => {
    const backend = demoBackend();
    backend.onCall();
    mount(backend.routes);
    const active = await screen.findByTestId('active-call');
    expect(await within(active).findByText('Audio is in another tab or device')).toBeInTheDocument();
    expect(screen.queryByTestId('reloaded-call')).not.toBeInTheDocument();
  });

  it('shows the backend 422 for a bad transfer number, and a refused hang-up says why', async () => {
    const user = userEvent.setup();
    const backend = demoBackend();
    mount(backend.routes);
    await waitFor(() => expect(screen.getByTestId('phone-status')).toHaveTextContent('Ready'));
    backend.ring();
    const incoming = await screen.findByRole('region', { name: 'Incoming call' }, { timeout: 3_000 });
    await user.click(within(incoming).getByRole('button', { name: 'Accept' }));
    const active = await screen.findByRole('region', { name: 'Current call' });

    // The panel is there before the call's details load: wait for the transfer form.
    await user.click(await within(active).findByRole('radio', { name: 'A phone number' }));
    await user.type(within(active).getByLabelText('Phone number (E.164)'), '0044 20 1234');
    await user.click(within(active).getByRole('radio', { name: 'Cold' }));
    await user.click(within(active).getByRole('button', { name: 'Transfer now' }));
    expect(backend.state.transferBodies.at(-1)).toEqual({ mode: 'cold', target: { phone_number: '0044201234' } });
    const input = within(active).getByLabelText('Phone number (E.164)');
    await waitFor(() => expect(input).toHaveAttribute('aria-invalid', 'true'));
    expect(within(active).getByRole('alert')).toHaveTextContent('must be in E.164 form');

    await user.click(within(active).getByRole('button', { name: 'Hang up' }));
    expect(await within(active).findByText('The call has already ended.')).toBeInTheDocument();

    // Demo: hang up as the customer.
    await user.click(within(active).getByRole('button', { name: 'Hang up as customer' }));
    await waitFor(() => expect(backend.state.hangups).toContain('CAcustomer'));
  });

  it('R rejects the ringing call, as the Reject button does', async () => {
    const user = userEvent.setup();
    const backend = demoBackend();
    const rejected: string[] = [];
    const routes = { ...backend.routes };
    routes['POST /api/demo/ringing/:sid/reject'] = (_r, _b, { sid }) => {
      rejected.push(sid!);
      return noContent();
    };
    mount(routes);
    await waitFor(() => expect(screen.getByTestId('phone-status')).toHaveTextContent('Demo phone: Ready'));
    backend.ring();
    const incoming = await screen.findByRole('region', { name: 'Incoming call' }, { timeout: 3_000 });
    expect(within(incoming).getByRole('button', { name: 'Reject' })).toHaveAttribute('aria-keyshortcuts', 'R');
    (document.activeElement as HTMLElement | null)?.blur();
    await user.keyboard('r');
    await waitFor(() => expect(rejected).toEqual(['CAada']));
    expect(screen.queryByTestId('active-call')).not.toBeInTheDocument();
  });

  it('a call that stops ringing (answered in another tab) leaves this tab idle', async () => {
    const backend = demoBackend();
    const routes = { ...backend.routes };
    let list: DemoRinging[] = [];
    routes['GET /api/demo/ringing'] = () => jsonResponse(200, list);
    mount(routes);
    await waitFor(() => expect(screen.getByTestId('phone-status')).toHaveTextContent('Ready'));
    list = [{ call_sid: 'CAx', from: '+15559990000', to: 'client:ada' }];
    await screen.findByRole('region', { name: 'Incoming call' }, { timeout: 3_000 });
    list = [];
    await waitFor(() => expect(screen.queryByRole('region', { name: 'Incoming call' })).toBeNull(), { timeout: 3_000 });
    expect(screen.getByText(/stopped ringing/)).toBeInTheDocument();
  });

  it('a call that rings out sets the agent Away, and the panel says so (not "answered elsewhere")', async () => {
    const backend = demoBackend();
    const routes = { ...backend.routes };
    let list: DemoRinging[] = [];
    let me = ada;
    routes['GET /api/demo/ringing'] = () => jsonResponse(200, list);
    routes['GET /api/me'] = () => jsonResponse(200, me);
    mount(routes);
    await waitFor(() => expect(screen.getByTestId('phone-status')).toHaveTextContent('Ready'));
    list = [{ call_sid: 'CAx', from: '+15559990000', to: 'client:ada' }];
    await screen.findByRole('region', { name: 'Incoming call' }, { timeout: 3_000 });
    // The ring timeout: the leg is gone and the server has set the agent away, in one change.
    list = [];
    me = { ...ada, status: 'away' };
    backend.events.send('agent', me);
    await waitFor(() => expect(screen.queryByRole('region', { name: 'Incoming call' })).toBeNull(), { timeout: 3_000 });
    expect(await screen.findByText(/You did not answer in time, so you were set Away/)).toHaveTextContent(
      'Call from +15559990000: You did not answer in time, so you were set Away and the caller went back to the queue.',
    );
    expect(screen.queryByText(/stopped ringing/)).toBeNull();
    expect(screen.getByTestId('idle-hint')).toHaveTextContent('You are away.');
  });

  describe('leaving a call', () => {
    const customer = makeParticipant({ id: 'p-customer' });
    const adaLeg = makeParticipant({ id: 'p-ada', kind: 'agent', agent_id: ada.id, display_name: ada.display_name, phone: null, call_sid: 'CAada' });
    const bobLeg = makeParticipant({ id: 'p-bob', kind: 'agent', agent_id: bob.id, display_name: bob.display_name, phone: null, call_sid: 'CAbob' });

    function onCall(participants: Participant[]) {
      const backend = demoBackend();
      const left: string[] = [];
      const routes = { ...backend.routes };
      routes['GET /api/me/call'] = () => jsonResponse(200, { call: left.length ? null : makeCall({ participants }) });
      routes['POST /api/calls/:id/leave'] = (_r, _b, { id }) => {
        left.push(id!);
        return noContent();
      };
      mount(routes);
      return { left };
    }

    it('alone with the customer: warns that the customer goes back to the queue, and leaves only once confirmed', async () => {
      const user = userEvent.setup();
      const { left } = onCall([customer, adaLeg]);
      const active = await screen.findByTestId('active-call', {}, { timeout: 3_000 });
      await user.click(await within(active).findByRole('button', { name: 'Leave call' }));
      const warning = within(active).getByRole('alertdialog', { name: 'Leave this call?' });
      expect(warning).toHaveTextContent(/only agent/);
      expect(warning).toHaveTextContent(/back to the queue/);
      expect(left).toEqual([]);

      await user.click(within(warning).getByRole('button', { name: 'Stay on the call' }));
      expect(within(active).queryByRole('alertdialog')).toBeNull();
      expect(left).toEqual([]);

      await user.click(within(active).getByRole('button', { name: 'Leave call' }));
      await user.click(within(active).getByRole('button', { name: 'Leave anyway' }));
      await waitFor(() => expect(left).toHaveLength(1));
    });

    it('L does what Leave call does: asks first when alone, then leaves once confirmed', async () => {
      const user = userEvent.setup();
      const { left } = onCall([customer, adaLeg]);
      const active = await screen.findByTestId('active-call', {}, { timeout: 3_000 });
      expect(await within(active).findByRole('button', { name: 'Leave call' })).toHaveAttribute('aria-keyshortcuts', 'L');
      (document.activeElement as HTMLElement | null)?.blur();
      await user.keyboard('l');
      const warning = within(active).getByRole('alertdialog', { name: 'Leave this call?' });
      expect(left).toEqual([]);
      await user.click(within(warning).getByRole('button', { name: 'Leave anyway' }));
      await waitFor(() => expect(left).toHaveLength(1));
    });

    it('with a colleague on the call: leaves at once', async () => {
      const user = userEvent.setup();
      const { left } = onCall([customer, adaLeg, bobLeg]);
      const active = await screen.findByTestId('active-call', {}, { timeout: 3_000 });
      await user.click(await within(active).findByRole('button', { name: 'Leave call' }));
      expect(within(active).queryByRole('alertdialog')).toBeNull();
      await waitFor(() => expect(left).toHaveLength(1));
    });
  });
});

describe('Dashboard queue', () => {
  const entry = (i: number) => ({
    call_id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    from_number: `+1555000${String(i).padStart(4, '0')}`,
    status: 'queued' as const,
    queued_at: new Date(Date.now() - (1_000 - i) * 1_000).toISOString(),
    waiting_since: new Date(Date.now() - (1_000 - i) * 1_000).toISOString(),
    waiting_seconds: 1_000 - i,
  });
  // As the server pages: the cursor is where the page starts (opaque to the SPA), the total
  // comes on the first page only.
  const page = (offset: number, limit: number, total: number) => ({
    items: Array.from({ length: Math.max(0, Math.min(limit, total - offset)) }, (_, i) => entry(offset + i)),
    total: offset === 0 ? total : null,
    limit,
    next_cursor: offset + limit < total ? `at-${offset + limit}` : null,
  });

  it('shows the first page with the whole count, loads more on request, and a queue event replaces it', async () => {
    const user = userEvent.setup();
    const backend = demoBackend();
    const { calls } = mount({
      ...backend.routes,
      'GET /api/queue': (request) => {
        const q = new URL(request.url).searchParams;
        return jsonResponse(200, page(Number(q.get('cursor')?.replace('at-', '') ?? 0), Number(q.get('limit') ?? 50), 120));
      },
    });

    const list = await screen.findByRole('list', { name: 'Waiting callers' });
    await waitFor(() => expect(within(list).getAllByRole('listitem')).toHaveLength(50));
    expect(screen.getByTestId('queue-count')).toHaveTextContent(/^120 waiting/);
    expect(calls).toContain('GET /api/queue?limit=50');
    expect(screen.getByTestId('queue-shown')).toHaveTextContent('Showing the 50 longest-waiting of 120.');

    await user.click(screen.getByRole('button', { name: 'Show more' }));
    await waitFor(() => expect(within(list).getAllByRole('listitem')).toHaveLength(100));
    expect(calls).toContain('GET /api/queue?limit=50&cursor=at-50');
    // The count stays the first page's.
    expect(screen.getByTestId('queue-count')).toHaveTextContent(/^120 waiting/);

    // The live event carries the first page again: it replaces what is shown.
    backend.events.send('queue', page(0, 50, 3));
    await waitFor(() => expect(within(list).getAllByRole('listitem')).toHaveLength(3));
    expect(screen.getByTestId('queue-count')).toHaveTextContent(/^3 waiting/);
    expect(screen.queryByRole('button', { name: 'Show more' })).not.toBeInTheDocument();
  });

  it('offers no "Show more" when the server says there is no next page, whatever the count says', async () => {
    const backend = demoBackend();
    // A count from a moment before two callers were served: 52 waiting, but the queue now
    // ends within the first page.
    mount({
      ...backend.routes,
      'GET /api/queue': () => jsonResponse(200, { ...page(0, 50, 50), total: 52, next_cursor: null }),
    });
    const list = await screen.findByRole('list', { name: 'Waiting callers' });
    await waitFor(() => expect(within(list).getAllByRole('listitem')).toHaveLength(50));
    expect(screen.getByTestId('queue-count')).toHaveTextContent(/^52 waiting/);
    expect(screen.queryByRole('button', { name: 'Show more' })).not.toBeInTheDocument();
  });

  it('keeps "Show more" while the server has a next page, even when the count is behind', async () => {
    const backend = demoBackend();
    // A count from before ten more callers arrived: 40, with 50 on this page and more after.
    mount({
      ...backend.routes,
      'GET /api/queue': () => jsonResponse(200, { ...page(0, 50, 120), total: 40 }),
    });
    const list = await screen.findByRole('list', { name: 'Waiting callers' });
    await waitFor(() => expect(within(list).getAllByRole('listitem')).toHaveLength(50));
    expect(screen.getByRole('button', { name: 'Show more' })).toBeInTheDocument();
    expect(screen.getByTestId('queue-shown')).toHaveTextContent('Showing the 50 longest-waiting.');
  });
});
