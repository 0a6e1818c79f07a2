import { settle, type ApiClient, type CreateTransferRequest } from '@/api';

/** The call-control operations, through the typed client; each resolves to an `ApiResult`. */
export function callActions(api: ApiClient) {
  const call = (id: string) => ({ params: { path: { id } } });
  const participant = (id: string, participantId: string) => ({ params: { path: { id, participant_id: participantId } } });
  const transfer = (id: string, transferId: string) => ({ params: { path: { id, transfer_id: transferId } } });
  return {
    hold: (callId: string, participantId: string, hold: boolean) =>
      settle(api.POST('/api/calls/{id}/participants/{participant_id}/hold', { ...participant(callId, participantId), body: { hold } })),
    mute: (callId: string, participantId: string, muted: boolean) =>
      settle(api.POST('/api/calls/{id}/participants/{participant_id}/mute', { ...participant(callId, participantId), body: { muted } })),
    remove: (callId: string, participantId: string) =>
      settle(api.DELETE('/api/calls/{id}/participants/{participant_id}', participant(callId, participantId))),
    leave: (callId: string) => settle(api.POST('/api/calls/{id}/leave', call(callId))),
    hangup: (callId: string) => settle(api.POST('/api/calls/{id}/hangup', call(callId))),
    startTransfer: (callId: string, body: CreateTransferRequest) =>
      settle(api.POST('/api/calls/{id}/transfers', { ...call(callId), body })),
    transferToQueue: (callId: string, note?: string) =>
      settle(api.POST('/api/calls/{id}/transfer-to-queue', { ...call(callId), ...(note ? { body: { note } } : {}) })),
    completeTransfer: (callId: string, transferId: string) =>
      settle(api.POST('/api/calls/{id}/transfers/{transfer_id}/complete', transfer(callId, transferId))),
    cancelTransfer: (callId: string, transferId: string) =>
      settle(api.POST('/api/calls/{id}/transfers/{transfer_id}/cancel', transfer(callId, transferId))),
  };
}

export type CallActions = ReturnType<typeof callActions>;
