import type { AgentStatus, Role, SettableStatus } from '@/api/types';

export const STATUS_LABELS: Record<AgentStatus, string> = {
  available: 'Available',
  away: 'Away',
  offline: 'Offline',
  reserved: 'Ringing',
  busy: 'On a call',
  wrap_up: 'Wrap-up',
};

export const STATUS_DESCRIPTIONS: Record<AgentStatus, string> = {
  available: 'Ready for the next call',
  away: 'Signed in, not taking calls',
  offline: 'Not taking calls',
  reserved: 'A call is ringing for you',
  busy: 'On a call',
  wrap_up: 'Finishing up after a call',
};

/** The statuses an agent picks by hand, in display order. */
export const SETTABLE_STATUSES: readonly SettableStatus[] = ['available', 'away', 'offline'];

export const ROLE_LABELS: Record<Role, string> = {
  agent: 'Agent',
  supervisor: 'Supervisor',
  admin: 'Admin',
};

/** Roles in the order an admin picks them. */
export const ROLES: readonly Role[] = ['agent', 'supervisor', 'admin'];

/** Sees the live board and every call, and may monitor and act on any call. */
export function maySupervise(role: Role): boolean {
  return role === 'supervisor' || role === 'admin';
}

/** Manages agents and settings. */
export function mayManage(role: Role): boolean {
  return role === 'admin';
}
