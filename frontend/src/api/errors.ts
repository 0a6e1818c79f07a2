/**
 * The backend's error body is `{ code, message }` with a stable `code`. openapi-fetch hands us
 * whatever the server sent (parsed JSON, or raw text from a proxy), so normalise it here.
 */

/** Stable error codes the backend documents; other strings may appear and are kept as-is. */
export type ApiErrorCode =
  | 'invalid_credentials'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'validation_failed'
  | 'too_many_attempts'
  | 'dial_not_allowed'
  | 'dial_limit_reached'
  | 'bad_request'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'unavailable'
  | 'internal'
  | 'network_error'
  | (string & {});

export interface ApiProblem {
  code: ApiErrorCode;
  message: string;
  status: number | null;
  /** The request field at fault (`validation_failed`), when the backend names one. */
  field?: string;
}

const FALLBACK_BY_STATUS: Record<number, string> = {
  400: 'The request was not understood.',
  401: 'You are not signed in.',
  403: 'You are not allowed to do that.',
  404: 'Not found.',
  409: 'That conflicts with the current state. Refresh and try again.',
  422: 'Some fields are not valid.',
  429: 'Too many attempts. Wait a moment and try again.',
};

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/** Turn an openapi-fetch `error` (plus its response) into a displayable problem. */
export function toApiProblem(error: unknown, response?: Response | null): ApiProblem {
  const status = response ? response.status : null;
  if (isRecord(error) && typeof error.message === 'string' && error.message.trim() !== '') {
    return {
      code: typeof error.code === 'string' ? error.code : `http_${status ?? 'error'}`,
      message: error.message,
      status,
      ...(typeof error.field === 'string' ? { field: error.field } : {}),
    };
  }
  if (status !== null) {
    return {
      code: status >= 500 ? 'internal' : `http_${status}`,
      message:
        FALLBACK_BY_STATUS[status] ??
        (status >= 500 ? 'The server had a problem. Try again shortly.' : `Request failed (${status}).`),
      status,
    };
  }
  return networkProblem();
}

/** For `fetch` rejections (server down, offline). */
export function networkProblem(): ApiProblem {
  return {
    code: 'network_error',
    message: 'Cannot reach the server. Check your connection and try again.',
    status: null,
  };
}

export type ApiResult<T> = { ok: true; data: T; response: Response } | { ok: false; problem: ApiProblem };

/**
 * Await an openapi-fetch call and fold its three outcomes (data, error body, thrown network
 * error) into one result that UI code can switch on.
 */
export async function settle<T>(
  call: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<ApiResult<T>> {
  try {
    const { data, error, response } = await call;
    if (response.ok) return { ok: true, data: data as T, response };
    return { ok: false, problem: toApiProblem(error, response) };
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') {
      return { ok: false, problem: { code: 'aborted', message: 'The request was cancelled.', status: null } };
    }
    return { ok: false, problem: networkProblem() };
  }
}
