import { createApiClient, type ApiClient } from '@/api/client';
import { jsonResponse } from './fixtures';

export type Route = (request: Request, body: unknown, params: Record<string, string>) => Response | Promise<Response>;

/**
 * A fake backend for tests: `routes['POST /api/calls/:id/leave']` answers that request (`:name`
 * segments match anything and land in `params`); anything else is a 404 JSON error.
 */
export function fakeBackend(routes: Record<string, Route>) {
  const calls: string[] = [];
  const compiled = Object.entries(routes).map(([key, route]) => {
    const [method, pattern] = key.split(' ') as [string, string];
    const names: string[] = [];
    const regex = new RegExp(
      '^' +
        pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/:(\w+)/g, (_m, name: string) => {
          names.push(name);
          return '([^/]+)';
        }) +
        '$',
    );
    return { method, regex, names, route };
  });
  const fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = input instanceof Request ? input : new Request(input, init);
    const url = new URL(request.url);
    const key = `${request.method} ${url.pathname}`;
    calls.push(`${key}${url.search}`);
    const text = request.method === 'GET' || request.method === 'HEAD' ? '' : await request.text();
    for (const c of compiled) {
      if (c.method !== request.method) continue;
      const m = c.regex.exec(url.pathname);
      if (!m) continue;
      const params: Record<string, string> = {};
      c.names.forEach((name, i) => (params[name] = decodeURIComponent(m[i + 1] ?? '')));
      return c.route(request, text ? JSON.parse(text) : undefined, params);
    }
    return jsonResponse(404, { code: 'not_found', message: `no route ${key}` });
  }) as typeof globalThis.fetch;
  return { fetch, calls };
}

/** An API client on a fake backend, with a fixed token. */
export function fakeApi(routes: Record<string, Route>): { api: ApiClient; calls: string[]; expired: () => number } {
  const { fetch, calls } = fakeBackend(routes);
  let expired = 0;
  const api = createApiClient({
    session: { getToken: () => 'token-1', expire: () => void expired++ },
    baseUrl: 'http://backend.test',
    fetch,
  });
  return { api, calls, expired: () => expired };
}

export function noContent(): Response {
  return new Response(null, { status: 204 });
}

/** The server side of the event stream: every connection can be written to or dropped. */
export function eventStream() {
  const encoder = new TextEncoder();
  const open: Array<ReadableStreamDefaultController<Uint8Array>> = [];
  let connections = 0;
  return {
    route: (() => {
      connections++;
      return new Response(new ReadableStream<Uint8Array>({ start: (c) => void open.push(c) }), {
        headers: { 'Content-Type': 'text/event-stream' },
      });
    }) as Route,
    send(event: string, data: unknown) {
      for (const c of open) c.enqueue(encoder.encode(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`));
    },
    dropAll() {
      for (const c of open.splice(0)) c.close();
    },
    get connections() {
      return connections;
    },
  };
}
