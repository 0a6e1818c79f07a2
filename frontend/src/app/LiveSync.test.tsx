import { render, screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import type { QueueEntry } from '@/api';
import { createApiClient } from '@/api/client';
import { createSessionStore } from '@/features/auth/session-store';
import { eventStream, fakeBackend, type Route } from '@/testing/fake-backend';
import { jsonResponse, makeAgent, makeLogin, MemoryStorage } from '@/testing/fixtures';
import { App } from './App';

const ada = makeAgent({ status: 'available' });
const bob = makeAgent({ id: '5d0c3d0e-7c1b-4a8a-9a63-0d0d3c1f1b02', display_name: 'Bob Builder', client_identity: 'bob', status: 'away' });

const entry = (n: number): QueueEntry => ({
  call_id: `c-${n}`,
  from_number: `+1555000${String(n).padStart(4, '0')}`,
  queued_at: new Date().toISOString(),
  status: 'queued',
  waiting_seconds: 0,
  waiting_since: new Date().toISOString(),
});

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

describe('server state and the live stream', () => {
  it('live events update the cached queue and team without a request', async () => {
    const events = eventStream();
    const { calls } = mount({
      'GET /api/config': () => jsonResponse(200, { mode: 'live', version: 'test' }),
      'GET /api/me': () => jsonResponse(200, ada),
      'GET /api/agents': () => jsonResponse(200, [ada, bob]),
      'GET /api/queue': () => jsonResponse(200, { items: [], total: 0, limit: 50, next_cursor: null }),
      'GET /api/me/call': () => jsonResponse(200, { call: null }),
      'GET /api/events': events.route,
    });
    await waitFor(() => expect(screen.getByTestId('queue-count')).toHaveTextContent('Nobody waiting'));
    await waitFor(() => expect(events.connections).toBe(1));
    const before = calls.filter((c) => c.startsWith('GET /api/queue') || c.startsWith('GET /api/agents')).length;

    events.send('queue', { items: [entry(0), entry(1)], total: 2, limit: 50, next_cursor: null });
    await waitFor(() => expect(screen.getByTestId('queue-count')).toHaveTextContent(/^2 waiting/));
    events.send('agent', { ...bob, display_name: 'Bob the Builder' });
    const team = screen.getByRole('list', { name: 'Team presence' });
    await waitFor(() => expect(within(team).getByText('Bob the Builder')).toBeInTheDocument());

    const after = calls.filter((c) => c.startsWith('GET /api/queue') || c.startsWith('GET /api/agents')).length;
    expect(after).toBe(before);
  });

  it('after the stream drops and comes back, refetches what events may have changed meanwhile', async () => {
    const events = eventStream();
    let waiting: QueueEntry[] = [];
    let bobNow = bob;
    const { calls } = mount({
      'GET /api/config': () => jsonResponse(200, { mode: 'live', version: 'test' }),
      'GET /api/me': () => jsonResponse(200, ada),
      'GET /api/agents': () => jsonResponse(200, [ada, bobNow]),
      'GET /api/queue': () => jsonResponse(200, { items: waiting, total: waiting.length, limit: 50, next_cursor: null }),
      'GET /api/me/call': () => jsonResponse(200, { call: null }),
      'GET /api/events': events.route,
    });
    await waitFor(() => expect(screen.getByTestId('queue-count')).toHaveTextContent('Nobody waiting'));
    await waitFor(() => expect(events.connections).toBe(1));
    const count = (prefix: string) => calls.filter((c) => c.startsWith(prefix)).length;
    const before = { queue: count('GET /api/queue'), call: count('GET /api/me/call') };

    // While the stream is down a caller joins and Bob changes name: no event says so.
    events.dropAll();
    waiting = [entry(0)];
    bobNow = { ...bob, display_name: 'Robert Builder' };

    await waitFor(() => expect(events.connections).toBe(2), { timeout: 5_000 });
    await waitFor(() => expect(screen.getByTestId('queue-count')).toHaveTextContent(/^1 waiting/));
    const team = screen.getByRole('list', { name: 'Team presence' });
    await waitFor(() => expect(within(team).getByText('Robert Builder')).toBeInTheDocument());
    expect(count('GET /api/queue')).toBeGreaterThan(before.queue);
    expect(count('GET /api/me/call')).toBeGreaterThan(before.call);
  });

  it('a live stream the server refuses (401) signs the agent out, and is not retried', async () => {
    let opens = 0;
    let sentAuth: string | null = null;
    mount({
      'GET /api/config': () => jsonResponse(200, { mode: 'live', version: 'test' }),
      // Every other request is still accepted: only the stream finds the session gone.
      'GET /api/me': () => jsonResponse(200, ada),
      'GET /api/agents': () => jsonResponse(200, [ada]),
      'GET /api/queue': () => jsonResponse(200, { items: [], total: 0, limit: 50, next_cursor: null }),
      'GET /api/me/call': () => jsonResponse(200, { call: null }),
      'GET /api/events': (request) => {
        opens++;
        sentAuth = request.headers.get('Authorization');
        return jsonResponse(401, { code: 'unauthorized', message: 'Session expired.' });
      },
    });
    expect(await screen.findByRole('heading', { name: 'Sign in' })).toBeInTheDocument();
    expect(screen.getByRole('status')).toHaveTextContent('Your session has expired. Please sign in again.');
    expect(sentAuth).toBe('Bearer token-1');
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(opens).toBe(1);
  });
});
