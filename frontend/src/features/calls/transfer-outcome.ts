import type { AgentView, CallDetail, Transfer, TransferEndReason } from '@/api';
import { agentName, transferTargetName } from './call-model';

/**
 * What a transfer's parties are told, from the server's state of the transfer (its status, why it
 * ended, who ended it, whether the customer went back to the queue) and nothing else: the browser
 * phone only knows that a line went quiet.
 */

/** Why a target did not take the call, as "<target> …". */
const FAILED_BECAUSE: Record<TransferEndReason, string> = {
  no_answer: 'did not answer',
  declined: 'declined the transfer',
  busy: 'was busy',
  unreachable: 'could not be reached',
  target_signed_out: 'signed out before answering',
  target_hung_up: 'hung up before joining',
  canceled: 'was called off',
  call_ended: 'was not reached before the call ended',
};

/** The transferring agent's view of a transfer in flight. */
export function transferProgress(transfer: Transfer, call: CallDetail, team: AgentView[]): string {
  const target = transferTargetName(transfer, call, team);
  return transfer.status === 'consulting' ? `Talking to ${target}` : `Ringing ${target}…`;
}

/** The transferring agent's view of how a transfer went (in flight or over). */
export function senderMessage(transfer: Transfer, call: CallDetail, team: AgentView[], meId: string): string {
  const target = transferTargetName(transfer, call, team);
  switch (transfer.status) {
    case 'dialing':
    case 'consulting':
      return transferProgress(transfer, call, team);
    case 'completed':
      return `${target} took the call.`;
    case 'failed': {
      const why = FAILED_BECAUSE[transfer.end_reason ?? 'no_answer'];
      const where = transfer.requeued ? 'The customer went back to the queue.' : 'The customer is back with you.';
      return `Transfer failed: ${target} ${why}. ${where}`;
    }
    case 'canceled':
      switch (transfer.end_reason) {
        case 'call_ended':
          return `The customer hung up before the transfer to ${target} completed.`;
        case 'target_hung_up':
          return `${target} hung up; the transfer is off.`;
        default:
          return transfer.ended_by && transfer.ended_by !== meId
            ? `Transfer to ${target} cancelled by ${agentName(transfer.ended_by, team)}.`
            : `You cancelled the transfer to ${target}.`;
      }
  }
}

/** The target's view of a transfer to them that ended without reaching them, if anything needs saying. */
export function targetMessage(transfer: Transfer, team: AgentView[]): string | null {
  if (transfer.status !== 'canceled' && transfer.status !== 'failed') return null;
  if (transfer.end_reason === 'canceled') return `Transfer cancelled by ${agentName(transfer.ended_by, team)}.`;
  if (transfer.end_reason === 'call_ended') return 'The customer hung up before the transfer completed.';
  return null;
}

/** The latest transfer of the call this agent started, or was the target of. */
export function latestTransfer(call: CallDetail, meId: string, role: 'from' | 'to'): Transfer | null {
  const mine = call.transfers.filter((t) => (role === 'from' ? t.from_agent_id === meId : t.to_agent_id === meId));
  return mine[mine.length - 1] ?? null;
}

/**
 * What an agent whose call went away is told, once the call's final state is known: how their
 * transfer went (they left it ringing, or it was cancelled on them), or that they sent the
 * customer back to the queue. Null when there is nothing more than "the call is over".
 */
export function endedCallMessage(call: CallDetail, team: AgentView[], meId: string): string | null {
  const toMe = latestTransfer(call, meId, 'to');
  const fromMe = latestTransfer(call, meId, 'from');
  // Sent back to the queue by this agent, unless Twilio refused it (then they stayed on the call).
  const queueMoves = call.timeline.filter(
    (e) => (e.kind === 'transferred_to_queue' || e.kind === 'transfer_to_queue_failed') && e.data.by === meId,
  );
  const sentToQueue = queueMoves[queueMoves.length - 1]?.kind === 'transferred_to_queue';
  // The latest of what this agent did or had done to them.
  const latest = [toMe, fromMe].filter((t): t is Transfer => t !== null).sort((a, b) => a.created_at.localeCompare(b.created_at)).pop();
  if (sentToQueue && (!latest || latest.status !== 'dialing')) return 'You sent the customer back to the queue.';
  if (!latest) return null;
  if (latest === toMe) return targetMessage(latest, team);
  // A completed hand-over is told as such by the caller ("You handed the call over to …").
  if (latest.status === 'completed') return null;
  return senderMessage(latest, call, team, meId);
}
