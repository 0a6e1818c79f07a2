import type { Agent, CallDetail, LoginResponse, Participant } from '@/api/types';
import type { VoiceClient } from '@/voice';

export function makeAgent(overrides: Partial<Agent> = {}): Agent {
  return {
    id: '5d0c3d0e-7c1b-4a8a-9a63-0d0d3c1f1a01',
    email: 'ada@example.com',
    display_name: 'Ada Lovelace',
    role: 'agent',
    client_identity: 'ada',
    status: 'offline',
    status_changed_at: '2026-01-01T09:00:00Z',
    active: true,
    created_at: '2026-01-01T08:00:00Z',
    ...overrides,
  };
}

export function makeLogin(expiresAt: Date | string, overrides: Partial<LoginResponse> = {}): LoginResponse {
  return {
    token: 'token-1',
    expires_at: typeof expiresAt === 'string' ? expiresAt : expiresAt.toISOString(),
    agent: makeAgent(),
    ...overrides,
  };
}

/** A Storage backed by a Map, so tests control exactly what "localStorage" holds. */
export class MemoryStorage implements Storage {
  private readonly data = new Map<string, string>();
  get length() {
    return this.data.size;
  }
  clear() {
    this.data.clear();
  }
  getItem(key: string) {
    return this.data.get(key) ?? null;
  }
  key(index: number) {
    return [...this.data.keys()][index] ?? null;
  }
  removeItem(key: string) {
    this.data.delete(key);
  }
  setItem(key: string, value: string) {
    this.data.set(key, String(value));
  }
}

export function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(body === undefined ? null : JSON.stringify(body), {
    status,
    headers: body === undefined ? headers : { 'Content-Type': 'application/json', ...headers },
  });
}

export function makeCall(overrides: Partial<CallDetail> = {}): CallDetail {
  return {
    id: 'c0a80101-0000-4000-8000-000000000001',
    customer_call_sid: 'CAcustomer',
    from_number: '+15551230001',
    to_number: '+15550000000',
    status: 'in_progress',
    owner_agent_id: makeAgent().id,
    owner_name: 'Ada Lovelace',
    created_at: '2026-01-01T09:00:00Z',
    answered_at: '2026-01-01T09:00:05Z',
    ended_at: null,
    duration_seconds: null,
    handled_by: [],
    monitors: [],
    transfer_summary: [],
    participants: [],
    transfers: [],
    timeline: [],
    ...overrides,
  };
}

export function makeParticipant(overrides: Partial<Participant> = {}): Participant {
  return {
    id: 'p-customer',
    kind: 'customer',
    agent_id: null,
    display_name: '+15551230001',
    phone: '+15551230001',
    call_sid: 'CAcustomer',
    status: 'connected',
    on_hold: false,
    muted: false,
    end_conference_on_exit: true,
    joined_at: '2026-01-01T09:00:00Z',
    left_at: null,
    monitor_mode: null,
    ...overrides,
  };
}

/** A browser phone that does nothing, registered; `overrides` adds what a test watches. */
export function makeVoiceClient<T extends Partial<VoiceClient>>(overrides: T = {} as T): VoiceClient & T {
  return {
    kind: 'live',
    state: 'registered',
    register: async () => {},
    unregister: async () => {},
    accept: async () => {},
    reject: async () => {},
    hangup: async () => {},
    mute: () => {},
    on: () => () => {},
    destroy: () => {},
    ...overrides,
  };
}
