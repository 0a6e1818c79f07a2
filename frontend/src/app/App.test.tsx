import { render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { createApiClient } from '@/api/client';
import { createSessionStore } from '@/features/auth/session-store';
import { jsonResponse, makeAgent, makeLogin, MemoryStorage } from '@/testing/fixtures';
import { App } from './App';

type Route = (request: Request, body: unknown) => Response | Promise<Response>;

/** A fake backend: `routes['GET /api/me']` answers that operation; anything else is a 404. */
function setup(routes: Record<string, Route>, storage = new MemoryStorage()) {
  const calls: string[] = [];
  const fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = input instanceof Request ? input : new Request(input, init);
    const key = `${request.method} ${new URL(request.url).pathname}`;
    calls.push(key);
    const text = await request.text();
    const route = routes[key];
    return route
      ? route(request, text ? JSON.parse(text) : undefined)
      : jsonResponse(404, { code: 'not_found', message: `no route ${key}` });
  }) as typeof globalThis.fetch;
  const session = createSessionStore({ storage });
  const api = createApiClient({ session, baseUrl: 'http://backend.test', fetch });
  render(<App services={{ session, api }} />);
  return { calls, session, storage };
}

const admin = makeAgent({ display_name: 'Grace Hopper', role: 'admin', email: 'grace@example.com' });
const config: Route = () => jsonResponse(200, { mode: 'live', version: '0.1.0' });

describe('App', () => {
  it('shows the backend error on a failed sign-in, then signs in to the dashboard', async () => {
    const user = userEvent.setup();
    setup({
      'GET /api/config': config,
      'POST /api/auth/login': (_req, body) => {
        const { password } = body as { password: string };
        return password === 'right'
          ? jsonResponse(200, makeLogin(new Date(Date.now() + 3_600_000), { agent: admin }))
          : jsonResponse(401, { code: 'invalid_credentials', message: 'Wrong email or password.' });
      },
      'GET /api/me': () => jsonResponse(200, admin),
    });

    await user.type(screen.getByLabelText('Email'), 'grace@example.com');
    await user.type(screen.getByLabelText('Password'), 'wrong');
    await user.click(screen.getByRole('button', { name: 'Sign in' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('Wrong email or password.');
    expect(screen.getByLabelText('Password')).toHaveValue('');

    await user.type(screen.getByLabelText('Password'), 'right');
    await user.click(screen.getByRole('button', { name: 'Sign in' }));

    expect(await screen.findByRole('heading', { name: 'Dashboard' })).toBeInTheDocument();
    const header = screen.getByRole('banner');
    expect(within(header).getByText('Grace Hopper')).toBeInTheDocument();
    expect(within(header).getByText('Admin')).toBeInTheDocument();
  });

  it('shows the rate-limit message from the backend', async () => {
    const user = userEvent.setup();
    setup({
      'GET /api/config': config,
      'POST /api/auth/login': () =>
        jsonResponse(429, { code: 'too_many_attempts', message: 'Too many attempts. Try again in 60 seconds.' }),
    });
    await user.type(screen.getByLabelText('Email'), 'a@example.com');
    await user.type(screen.getByLabelText('Password'), 'x');
    await user.click(screen.getByRole('button', { name: 'Sign in' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('Too many attempts. Try again in 60 seconds.');
  });

  it('shows a DEMO banner in demo mode', async () => {
    setup({ 'GET /api/config': () => jsonResponse(200, { mode: 'demo', version: '0.1.0' }) });
    expect(await screen.findByRole('note', { name: 'Demo mode' })).toHaveTextContent('DEMO');
  });

  it('shows no DEMO banner in live mode', async () => {
    const { calls } = setup({ 'GET /api/config': config });
    await waitFor(() => expect(calls).toContain('GET /api/config'));
    expect(screen.queryByRole('note', { name: 'Demo mode' })).toBeNull();
  });

  it('restores a stored session, changes presence in one click, and signs out', async () => {
    const user = userEvent.setup();
    const storage = new MemoryStorage();
    const seed = createSessionStore({ storage });
    seed.signIn(makeLogin(new Date(Date.now() + 3_600_000), { agent: admin }));
    seed.dispose();

    let status = 'offline';
    const { calls } = setup(
      {
        // Demo mode: going available first connects the (simulated) browser phone.
        'GET /api/config': () => jsonResponse(200, { mode: 'demo', version: '0.1.0' }),
        'GET /api/demo/ringing': () => jsonResponse(200, []),
        'GET /api/me': () => jsonResponse(200, { ...admin, status }),
        'PUT /api/me/status': (req, body) => {
          expect(req.headers.get('Authorization')).toBe('Bearer token-1');
          status = (body as { status: string }).status;
          return jsonResponse(200, { ...admin, status });
        },
        'POST /api/auth/logout': () => new Response(null, { status: 204 }),
      },
      storage,
    );

    const presence = await screen.findByRole('group', { name: 'Your status' });
    expect(within(presence).getByRole('button', { name: /Offline/ })).toHaveAttribute('aria-pressed', 'true');

    await user.click(within(presence).getByRole('button', { name: /Available/ }));
    await waitFor(() =>
      expect(within(presence).getByRole('button', { name: /Available/ })).toHaveAttribute('aria-pressed', 'true'),
    );
    expect(status).toBe('available');

    await user.click(screen.getByRole('button', { name: 'Sign out' }));
    expect(await screen.findByRole('heading', { name: 'Sign in' })).toBeInTheDocument();
    expect(calls).toContain('POST /api/auth/logout');
    expect(storage.length).toBe(0);
  });

  describe('the microphone is asked for when the agent goes available', () => {
    function signedIn(mode: 'live' | 'demo') {
      const storage = new MemoryStorage();
      const seed = createSessionStore({ storage });
      seed.signIn(makeLogin(new Date(Date.now() + 3_600_000), { agent: admin }));
      seed.dispose();
      return setup(
        {
          'GET /api/config': () => jsonResponse(200, { mode, version: '0.1.0' }),
          'GET /api/me': () => jsonResponse(200, admin),
          'GET /api/demo/ringing': () => jsonResponse(200, []),
          'PUT /api/me/status': (_req, body) => jsonResponse(200, { ...admin, status: (body as { status: string }).status }),
        },
        storage,
      );
    }

    function denyMicrophone() {
      const media = navigator.mediaDevices;
      const asked: MediaStreamConstraints[] = [];
      const original = media.getUserMedia;
      media.getUserMedia = async (constraints?: MediaStreamConstraints) => {
        asked.push(constraints ?? {});
        throw new DOMException('Permission denied', 'NotAllowedError');
      };
      return { asked, restore: () => (media.getUserMedia = original) };
    }

    it('live mode: a refused microphone keeps the agent offline, and says why (before the phone registers)', async () => {
      const user = userEvent.setup();
      const mic = denyMicrophone();
      try {
        const { calls } = signedIn('live');
        const presence = await screen.findByRole('group', { name: 'Your status' });
        expect(mic.asked).toHaveLength(0); // not on page load
        await user.click(within(presence).getByRole('button', { name: /Available/ }));
        expect(await screen.findByText(/you stay offline: Microphone access was denied/)).toBeInTheDocument();
        expect(mic.asked).toEqual([{ audio: true }]);
        expect(calls).not.toContain('POST /api/voice/token');
        expect(calls).not.toContain('PUT /api/me/status');
      } finally {
        mic.restore();
      }
    });

    it('demo mode: the simulator needs no microphone, so a refusal does not stop the agent', async () => {
      const user = userEvent.setup();
      const mic = denyMicrophone();
      try {
        signedIn('demo');
        const presence = await screen.findByRole('group', { name: 'Your status' });
        await user.click(within(presence).getByRole('button', { name: /Available/ }));
        await waitFor(() => expect(within(presence).getByRole('button', { name: /Available/ })).toHaveAttribute('aria-pressed', 'true'));
        expect(mic.asked).toHaveLength(1);
      } finally {
        mic.restore();
      }
    });
  });

  it('does not go available when the browser phone cannot connect, and says why', async () => {
    const user = userEvent.setup();
    const storage = new MemoryStorage();
    const seed = createSessionStore({ storage });
    seed.signIn(makeLogin(new Date(Date.now() + 3_600_000), { agent: admin }));
    seed.dispose();
    const { calls } = setup(
      {
        'GET /api/config': config,
        'GET /api/me': () => jsonResponse(200, admin),
        'POST /api/voice/token': () =>
          jsonResponse(503, { code: 'unavailable', message: 'Voice is not configured on this server.' }),
      },
      storage,
    );
    const presence = await screen.findByRole('group', { name: 'Your status' });
    await user.click(within(presence).getByRole('button', { name: /Available/ }));
    expect(await screen.findByText(/Your phone is not ready, so you stay offline: Voice is not configured/)).toBeInTheDocument();
    expect(within(presence).getByRole('button', { name: /Offline/ })).toHaveAttribute('aria-pressed', 'true');
    expect(calls).not.toContain('PUT /api/me/status');
  });

  it('returns to sign-in with a message when the server rejects the stored session', async () => {
    const storage = new MemoryStorage();
    const seed = createSessionStore({ storage });
    seed.signIn(makeLogin(new Date(Date.now() + 3_600_000), { agent: admin }));
    seed.dispose();

    setup(
      {
        'GET /api/config': config,
        'GET /api/me': () => jsonResponse(401, { code: 'unauthorized', message: 'Session expired.' }),
      },
      storage,
    );

    expect(await screen.findByRole('heading', { name: 'Sign in' })).toBeInTheDocument();
    expect(screen.getByRole('status')).toHaveTextContent('Your session has expired. Please sign in again.');
  });

  describe('on a call, the server refuses to let the agent go (409)', () => {
    const onCallMessage = 'you are busy on a call; your status changes when the call ends';

    function signedInOnCall(routes: Record<string, Route>) {
      const storage = new MemoryStorage();
      const seed = createSessionStore({ storage });
      const agent = { ...admin, status: 'busy' as const };
      seed.signIn(makeLogin(new Date(Date.now() + 3_600_000), { agent }));
      seed.dispose();
      return setup(
        {
          'GET /api/config': () => jsonResponse(200, { mode: 'demo', version: '0.1.0' }),
          'GET /api/demo/ringing': () => jsonResponse(200, []),
          'GET /api/me': () => jsonResponse(200, agent),
          ...routes,
        },
        storage,
      );
    }

    it('sign-out: shows the reason next to the button and keeps the agent signed in', async () => {
      const user = userEvent.setup();
      const { calls, session, storage } = signedInOnCall({
        'POST /api/auth/logout': () => jsonResponse(409, { code: 'conflict', message: onCallMessage }),
      });
      await user.click(await screen.findByRole('button', { name: 'Sign out' }));
      await waitFor(() => expect(screen.getAllByRole('alert').some((a) => a.closest('.sign-out'))).toBe(true));
      const alert = screen.getAllByRole('alert').find((a) => a.closest('.sign-out'))!;
      expect(alert).toHaveTextContent('Still signed in: you are on a call. Hang up, transfer or leave it first, or:');
      expect(calls).toContain('POST /api/auth/logout');
      expect(session.getState().session).not.toBeNull();
      expect(storage.length).toBe(1);
      expect(screen.queryByRole('heading', { name: 'Sign in' })).toBeNull();
      expect(screen.getByRole('button', { name: 'Sign out' })).toBeEnabled();
    });

    it('sign-out: the agent can hand the caller back to the queue and go', async () => {
      const user = userEvent.setup();
      const asked: string[] = [];
      const { session } = signedInOnCall({
        'POST /api/auth/logout': (request: Request) => {
          const query = new URL(request.url).search;
          asked.push(query);
          return query === '?hand_back=true'
            ? new Response(null, { status: 204 })
            : jsonResponse(409, { code: 'conflict', message: onCallMessage });
        },
      });
      await user.click(await screen.findByRole('button', { name: 'Sign out' }));
      const handBack = await screen.findByRole('button', { name: 'Sign out and send the caller back to the queue' });
      expect(session.getState().session).not.toBeNull();
      await user.click(handBack);
      expect(await screen.findByRole('heading', { name: 'Sign in' })).toBeInTheDocument();
      expect(asked).toEqual(['', '?hand_back=true']);
      expect(session.getState().session).toBeNull();
    });

    it('sign-out: the refusal is in the agent\'s words, not the API\'s (no hand_back=true)', async () => {
      const user = userEvent.setup();
      const apiMessage =
        'you are on a call: hang up, transfer or leave it first, or sign out with hand_back=true to send the caller back to the queue for a colleague';
      signedInOnCall({
        'POST /api/auth/logout': () => jsonResponse(409, { code: 'conflict', message: apiMessage }),
      });
      await user.click(await screen.findByRole('button', { name: 'Sign out' }));
      const handBack = await screen.findByRole('button', { name: 'Sign out and send the caller back to the queue' });
      const alert = handBack.closest('[role="alert"]')!;
      expect(alert.textContent).not.toContain('hand_back');
      expect(alert).toHaveTextContent('you are on a call');
    });

    it('sign-out: while a call rings for the agent, the refusal says so', async () => {
      const user = userEvent.setup();
      const storage = new MemoryStorage();
      const seed = createSessionStore({ storage });
      const agent = { ...admin, status: 'reserved' as const };
      seed.signIn(makeLogin(new Date(Date.now() + 3_600_000), { agent }));
      seed.dispose();
      setup(
        {
          'GET /api/config': () => jsonResponse(200, { mode: 'demo', version: '0.1.0' }),
          'GET /api/demo/ringing': () => jsonResponse(200, []),
          'GET /api/me': () => jsonResponse(200, agent),
          'POST /api/auth/logout': () => jsonResponse(409, { code: 'conflict', message: onCallMessage }),
        },
        storage,
      );
      await user.click(await screen.findByRole('button', { name: 'Sign out' }));
      const handBack = await screen.findByRole('button', { name: 'Sign out and send the caller back to the queue' });
      expect(handBack.closest('[role="alert"]')).toHaveTextContent('Still signed in: a call is ringing for you. Answer or decline it first, or:');
    });

    it('sign-out: a server that cannot be reached is reported as such, without the hand-back choice', async () => {
      const user = userEvent.setup();
      signedInOnCall({
        'POST /api/auth/logout': () => jsonResponse(503, { code: 'unavailable', message: 'the database is unavailable' }),
      });
      await user.click(await screen.findByRole('button', { name: 'Sign out' }));
      await waitFor(() => expect(screen.getAllByRole('alert').some((a) => a.closest('.sign-out'))).toBe(true));
      const alert = screen.getAllByRole('alert').find((a) => a.closest('.sign-out'))!;
      expect(alert).toHaveTextContent('Still signed in: the database is unavailable');
      expect(screen.queryByRole('button', { name: 'Sign out and send the caller back to the queue' })).toBeNull();
    });

    it('sign-out: the session is kept until the server has answered', async () => {
      const user = userEvent.setup();
      let answer!: (response: Response) => void;
      const { session } = signedInOnCall({
        'POST /api/auth/logout': () => new Promise<Response>((resolve) => (answer = resolve)),
      });
      await user.click(await screen.findByRole('button', { name: 'Sign out' }));
      await waitFor(() => expect(answer).toBeTypeOf('function'));
      expect(session.getState().session).not.toBeNull();
      answer(new Response(null, { status: 204 }));
      expect(await screen.findByRole('heading', { name: 'Sign in' })).toBeInTheDocument();
      expect(session.getState().session).toBeNull();
    });

    it('Offline: shows the reason next to the status control and keeps the agent signed in', async () => {
      const user = userEvent.setup();
      const { session } = signedInOnCall({
        'PUT /api/me/status': () => jsonResponse(409, { code: 'conflict', message: onCallMessage }),
      });
      const presence = await screen.findByRole('group', { name: 'Your status' });
      await user.click(within(presence).getByRole('button', { name: /Offline/ }));
      await waitFor(() => expect(screen.getAllByRole('alert').map((a) => a.textContent)).toContain(onCallMessage));
      const alert = screen.getAllByRole('alert').find((a) => a.textContent === onCallMessage)!;
      expect(alert).toHaveTextContent(onCallMessage);
      expect(alert.closest('.presence')).not.toBeNull();
      expect(session.getState().session?.agent.status).toBe('busy');
    });
  });
});
