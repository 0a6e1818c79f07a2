import createClient, { type Client, type Middleware } from 'openapi-fetch';
import type { paths } from './schema';

/**
 * The one way the SPA talks to the backend: an openapi-fetch client typed by `schema.d.ts`
 * (generated from the backend's OpenAPI document), with auth handled by middleware.
 */
export type ApiClient = Client<paths>;

/** What the client needs from the session; `features/auth`'s session store provides it. */
export interface SessionPort {
  /** The bearer token to send, or `null` when signed out. */
  getToken(): string | null;
  /** Called when the server rejects the token we sent: sign out and tell the user why. */
  expire(): void;
}

/** Operations that never carry the session token (their 401 means wrong credentials, not expiry). */
const PUBLIC_PATHS: ReadonlySet<string> = new Set<keyof paths>(['/api/auth/login', '/api/config']);

/**
 * Adds `Authorization: Bearer <token>` and turns a 401 on an authenticated request into
 * "session expired". A 401 for a token that has since been replaced (the agent signed in again
 * while an old request was in flight) is ignored, so it cannot sign out the new session.
 */
export function authMiddleware(session: SessionPort): Middleware {
  const sentTokens = new Map<string, string>();
  return {
    onRequest({ request, schemaPath, id }) {
      if (PUBLIC_PATHS.has(schemaPath)) return undefined;
      const token = session.getToken();
      if (!token) return undefined;
      sentTokens.set(id, token);
      request.headers.set('Authorization', `Bearer ${token}`);
      return request;
    },
    onResponse({ response, id }) {
      const sent = sentTokens.get(id);
      sentTokens.delete(id);
      if (response.status === 401 && sent !== undefined && session.getToken() === sent) {
        session.expire();
      }
      return undefined;
    },
    onError({ id }) {
      sentTokens.delete(id);
      return undefined;
    },
  };
}

export interface ApiClientOptions {
  session: SessionPort;
  /** Origin of the backend; defaults to the page's own origin (the backend serves the SPA). */
  baseUrl?: string;
  fetch?: typeof globalThis.fetch;
}

export function createApiClient({ session, baseUrl, fetch }: ApiClientOptions): ApiClient {
  const client = createClient<paths>({
    baseUrl: baseUrl ?? defaultBaseUrl(),
    headers: { Accept: 'application/json' },
    ...(fetch ? { fetch } : {}),
  });
  client.use(authMiddleware(session));
  return client;
}

function defaultBaseUrl(): string {
  const configured = import.meta.env.VITE_API_BASE_URL as string | undefined;
  if (configured) return configured.replace(/\/+$/, '');
  return typeof window !== 'undefined' ? window.location.origin : '';
}
