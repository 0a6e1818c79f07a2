import { describe, expect, it, vi } from 'vitest';
import { createSessionStore, SESSION_EXPIRED_NOTICE } from '@/features/auth/session-store';
import { jsonResponse, makeAgent, makeLogin, MemoryStorage } from '@/testing/fixtures';
import { createApiClient, type SessionPort } from './client';
import { settle, toApiProblem } from './errors';

const BASE = 'http://backend.test';

function fakeFetch(handler: (request: Request) => Response | Promise<Response>) {
  const requests: Request[] = [];
  const fetch = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = input instanceof Request ? input : new Request(input, init);
    requests.push(request);
    return handler(request);
  });
  return { fetch: fetch as unknown as typeof globalThis.fetch, requests };
}

function signedInStore(token = 'token-1') {
  const store = createSessionStore({ storage: new MemoryStorage() });
  store.signIn(makeLogin(new Date(Date.now() + 3_600_000), { token }));
  return store;
}

describe('API client auth middleware', () => {
  it('sends the session token as a bearer token', async () => {
    const session = signedInStore('abc.def');
    const { fetch, requests } = fakeFetch(() => jsonResponse(200, makeAgent()));
    const api = createApiClient({ session, baseUrl: BASE, fetch });

    const { data } = await api.GET('/api/me');

    expect(data?.display_name).toBe('Ada Lovelace');
    expect(requests[0]!.url).toBe(`${BASE}/api/me`);
    expect(requests[0]!.headers.get('Authorization')).toBe('Bearer abc.def');
  });

  it('sends no Authorization header when signed out', async () => {
    const session = createSessionStore({ storage: null });
    const { fetch, requests } = fakeFetch(() => jsonResponse(401, { code: 'unauthorized', message: 'no' }));
    const api = createApiClient({ session, baseUrl: BASE, fetch });

    await api.GET('/api/me');

    expect(requests[0]!.headers.has('Authorization')).toBe(false);
  });

  it('never sends the token to public operations (login, config)', async () => {
    const session = signedInStore();
    const { fetch, requests } = fakeFetch((req) =>
      req.url.endsWith('/api/config')
        ? jsonResponse(200, { mode: 'demo', version: '1.0.0' })
        : jsonResponse(200, makeLogin(new Date(Date.now() + 1000))),
    );
    const api = createApiClient({ session, baseUrl: BASE, fetch });

    await api.GET('/api/config');
    await api.POST('/api/auth/login', { body: { email: 'a@b.c', password: 'pw' } });

    expect(requests.map((r) => r.headers.has('Authorization'))).toEqual([false, false]);
  });

  it('turns a 401 on an authenticated request into "session expired"', async () => {
    const session = signedInStore();
    const { fetch } = fakeFetch(() => jsonResponse(401, { code: 'unauthorized', message: 'Session expired' }));
    const api = createApiClient({ session, baseUrl: BASE, fetch });

    const { error, response } = await api.PUT('/api/me/status', { body: { status: 'available' } });

    expect(response.status).toBe(401);
    expect(error).toEqual({ code: 'unauthorized', message: 'Session expired' });
    expect(session.getState()).toEqual({ session: null, notice: SESSION_EXPIRED_NOTICE });
  });

  it('does not sign out on a wrong-password 401 from login', async () => {
    const session = createSessionStore({ storage: null });
    const expire = vi.spyOn(session, 'expire');
    const { fetch } = fakeFetch(() =>
      jsonResponse(401, { code: 'invalid_credentials', message: 'Wrong email or password.' }),
    );
    const api = createApiClient({ session, baseUrl: BASE, fetch });

    const result = await settle(api.POST('/api/auth/login', { body: { email: 'a@b.c', password: 'x' } }));

    expect(result).toEqual({
      ok: false,
      problem: { code: 'invalid_credentials', message: 'Wrong email or password.', status: 401 },
    });
    expect(expire).not.toHaveBeenCalled();
  });

  it('ignores a late 401 for a token that has since been replaced', async () => {
    const session = signedInStore('old');
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const { fetch, requests } = fakeFetch(async () => {
      await gate;
      return jsonResponse(401, { code: 'unauthorized', message: 'expired' });
    });
    const api = createApiClient({ session, baseUrl: BASE, fetch });

    const pending = api.GET('/api/me');
    await vi.waitFor(() => expect(requests).toHaveLength(1));
    expect(requests[0]!.headers.get('Authorization')).toBe('Bearer old');
    session.signIn(makeLogin(new Date(Date.now() + 3_600_000), { token: 'new' }));
    release();
    await pending;

    expect(session.getToken()).toBe('new');
  });

  it('leaves the session alone on other errors (403, 409, 500)', async () => {
    const session = signedInStore();
    for (const status of [403, 409, 500]) {
      const { fetch } = fakeFetch(() => jsonResponse(status, { code: 'x', message: 'y' }));
      const api = createApiClient({ session, baseUrl: BASE, fetch });
      await api.GET('/api/agents');
    }
    expect(session.getToken()).toBe('token-1');
  });

  it('reads the token at request time, so a sign-in is used by the same client', async () => {
    const session = createSessionStore({ storage: null });
    const { fetch, requests } = fakeFetch(() => jsonResponse(200, []));
    const api = createApiClient({ session, baseUrl: BASE, fetch });

    await api.GET('/api/agents');
    session.signIn(makeLogin(new Date(Date.now() + 60_000), { token: 'later' }));
    await api.GET('/api/agents');

    expect(requests.map((r) => r.headers.get('Authorization'))).toEqual([null, 'Bearer later']);
  });

  it('works with any SessionPort', async () => {
    const port: SessionPort = { getToken: () => 'port-token', expire: vi.fn() };
    const { fetch, requests } = fakeFetch(() => jsonResponse(401, { code: 'unauthorized', message: 'x' }));
    const api = createApiClient({ session: port, baseUrl: BASE, fetch });

    await api.DELETE('/api/agents/{id}', { params: { path: { id: 'f1b6c4a0-0000-4000-8000-000000000000' } } });

    expect(requests[0]!.url).toBe(`${BASE}/api/agents/f1b6c4a0-0000-4000-8000-000000000000`);
    expect(requests[0]!.method).toBe('DELETE');
    expect(port.expire).toHaveBeenCalledTimes(1);
  });
});

describe('error normalisation', () => {
  it('keeps the backend code and message', () => {
    const problem = toApiProblem(
      { code: 'too_many_attempts', message: 'Too many sign-in attempts. Try again in a minute.' },
      new Response(null, { status: 429 }),
    );
    expect(problem).toEqual({
      code: 'too_many_attempts',
      message: 'Too many sign-in attempts. Try again in a minute.',
      status: 429,
    });
  });

  it('keeps the field at fault for validation errors', () => {
    const problem = toApiProblem(
      { code: 'validation_failed', message: 'email: is not a valid email address', field: 'email' },
      new Response(null, { status: 422 }),
    );
    expect(problem).toMatchObject({ code: 'validation_failed', field: 'email', status: 422 });
  });

  it('falls back to a readable message for non-JSON bodies', () => {
    expect(toApiProblem('<html>Bad gateway</html>', new Response(null, { status: 502 }))).toMatchObject({
      code: 'internal',
      status: 502,
    });
    expect(toApiProblem(undefined, new Response(null, { status: 429 })).message).toMatch(/too many/i);
  });

  it('reports network failures', async () => {
    const session = createSessionStore({ storage: null });
    const api = createApiClient({
      session,
      baseUrl: BASE,
      fetch: (() => Promise.reject(new TypeError('Failed to fetch'))) as typeof globalThis.fetch,
    });
    const result = await settle(api.GET('/api/config'));
    expect(result).toMatchObject({ ok: false, problem: { code: 'network_error', status: null } });
  });

  it('passes 204 responses through as success', async () => {
    const session = signedInStore();
    const api = createApiClient({
      session,
      baseUrl: BASE,
      fetch: (async () => new Response(null, { status: 204 })) as typeof globalThis.fetch,
    });
    const result = await settle(api.POST('/api/auth/logout'));
    expect(result.ok).toBe(true);
  });
});
