/**
 * Friendly names for the wire types, derived from the generated `schema.d.ts`.
 *
 * Types are looked up by path and operation rather than by component name, so a rename of a
 * schema in the backend's generated spec does not ripple through the app. Never hand-write a
 * request or response shape: add an alias here instead.
 */
import type { paths } from './schema';

type JsonBody<T> = T extends { content: { 'application/json': infer B } } ? B : never;

/** The JSON body of the first 2xx response of `paths[P][M]`. */
export type ResponseOf<
  P extends keyof paths,
  M extends keyof paths[P],
> = paths[P][M] extends { responses: infer R }
  ? R extends { 200: infer Ok }
    ? JsonBody<Ok>
    : R extends { 201: infer Created }
      ? JsonBody<Created>
      : never
  : never;

/** The JSON request body of `paths[P][M]`. */
export type RequestBodyOf<
  P extends keyof paths,
  M extends keyof paths[P],
> = paths[P][M] extends { requestBody?: infer B } ? JsonBody<NonNullable<B>> : never;

export type AppConfig = ResponseOf<'/api/config', 'get'>;
export type AppMode = AppConfig['mode'];

export type Agent = ResponseOf<'/api/me', 'get'>;
export type AgentStatus = Agent['status'];
export type Role = Agent['role'];

export type LoginRequest = RequestBodyOf<'/api/auth/login', 'post'>;
export type LoginResponse = ResponseOf<'/api/auth/login', 'post'>;

export type SetStatusRequest = RequestBodyOf<'/api/me/status', 'put'>;
/** The statuses an agent may choose; the others (reserved, busy, wrap_up) are set by calls. */
export type SettableStatus = SetStatusRequest['status'];

export type CreateAgentRequest = RequestBodyOf<'/api/agents', 'post'>;
export type UpdateAgentRequest = RequestBodyOf<'/api/agents/{id}', 'patch'>;

/** The query parameters of `paths[P][M]`. */
export type QueryOf<P extends keyof paths, M extends keyof paths[P]> = paths[P][M] extends {
  parameters: { query?: infer Q };
}
  ? NonNullable<Q>
  : never;

/** An agent as the team list, live events and admin screens see them (same shape as `Agent`). */
export type AgentView = ResponseOf<'/api/agents/{id}', 'get'>;

export type VoiceToken = ResponseOf<'/api/voice/token', 'post'>;

export type CallPage = ResponseOf<'/api/calls', 'get'>;
export type CallSummary = CallPage['items'][number];
export type CallStatus = CallSummary['status'];
export type ListCallsQuery = QueryOf<'/api/calls', 'get'>;

export type CallDetail = ResponseOf<'/api/calls/{id}', 'get'>;
export type Participant = CallDetail['participants'][number];
export type ParticipantKind = Participant['kind'];
export type ParticipantStatus = Participant['status'];
export type MonitorMode = NonNullable<Participant['monitor_mode']>;
export type MonitorRequest = RequestBodyOf<'/api/calls/{id}/monitor', 'post'>;
export type Transfer = CallDetail['transfers'][number];
export type TransferMode = Transfer['mode'];
export type TransferStatus = Transfer['status'];
export type TransferEndReason = NonNullable<Transfer['end_reason']>;
export type CallEvent = CallDetail['timeline'][number];

export type MyCallResponse = ResponseOf<'/api/me/call', 'get'>;

export type QueuePage = ResponseOf<'/api/queue', 'get'>;
export type QueueEntry = QueuePage['items'][number];

export type CreateTransferRequest = RequestBodyOf<'/api/calls/{id}/transfers', 'post'>;
export type TransferTarget = CreateTransferRequest['target'];

export type DemoCallRequest = RequestBodyOf<'/api/demo/calls', 'post'>;
export type DemoCallCreated = ResponseOf<'/api/demo/calls', 'post'>;
export type DemoRinging = ResponseOf<'/api/demo/ringing', 'get'>[number];
export type DemoOutsideCall = ResponseOf<'/api/demo/outside-calls', 'get'>[number];

export type DialingPolicy = ResponseOf<'/api/dialing-policy', 'get'>;
export type UpdateDialingPolicyRequest = RequestBodyOf<'/api/dialing-policy', 'put'>;

export type WrapUpSettings = ResponseOf<'/api/wrap-up-settings', 'get'>;
export type UpdateWrapUpSettingsRequest = RequestBodyOf<'/api/wrap-up-settings', 'put'>;
/** An entry of an admin-managed list: a disposition code or an away reason. */
export type ListEntry = ResponseOf<'/api/dispositions', 'get'>[number];
export type CreateListEntryRequest = RequestBodyOf<'/api/dispositions', 'post'>;
export type UpdateListEntryRequest = RequestBodyOf<'/api/dispositions/{code}', 'patch'>;
export type Disposition = ResponseOf<'/api/calls/{id}/disposition', 'put'>;
export type DispositionRequest = RequestBodyOf<'/api/calls/{id}/disposition', 'put'>;
export type WrapUpState = NonNullable<Agent['wrap_up']>;
export type MissedCall = NonNullable<Agent['missed_call']>;
