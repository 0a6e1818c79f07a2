import { settle, useApi, type ApiResult, type CallSummary, type MonitorMode } from '@/api';
import { ActionButton } from '@/components/ActionButton';
import { MONITOR_MODE_LABELS } from '@/lib/call-labels';
import { formatPhone } from '@/lib/format';
import type { useAction } from '@/lib/use-action';
import { usePhone } from '@/voice';
import { myMonitor } from '../board-model';

const MODE_BUTTONS: { mode: MonitorMode; label: string }[] = [
  { mode: 'listen', label: 'Listen' },
  { mode: 'whisper', label: 'Whisper' },
  { mode: 'barge', label: 'Barge' },
];

/**
 * A supervisor's controls for one talking call: listen (muted), whisper to its agent, barge in,
 * stop, take over. Listening rings this page's phone with a leg the page asked for, which it
 * answers by itself (the API names the leg's call SID), so no ringing prompt shows.
 */
export function MonitorControls({ call, meId, action }: { call: CallSummary; meId: string; action: ReturnType<typeof useAction> }) {
  const api = useApi();
  const phone = usePhone();
  const mine = myMonitor(call, meId);
  const caller = formatPhone(call.from_number);
  const key = (what: string) => `${what}:${call.id}`;

  async function setMode(mode: MonitorMode) {
    await action.run(key('monitor'), async (): Promise<ApiResult<unknown>> => {
      if (!mine && phone) {
        const failed = await phone.ensureRegistered();
        if (failed) return { ok: false, problem: { code: 'phone', message: `Your browser phone is not connected: ${failed}`, status: null } } as ApiResult<unknown>;
      }
      const result = await settle(api.POST('/api/calls/{id}/monitor', { params: { path: { id: call.id } }, body: { mode } }));
      if (result.ok && result.data.call_sid) phone?.expectCall(result.data.call_sid);
      return result;
    });
  }

  if (call.owner_agent_id === meId) return null;
  return (
    <span className="board__monitor" role="group" aria-label={`Supervise the call from ${caller}`}>
      {MODE_BUTTONS.filter((b) => b.mode !== mine?.mode).map((b) => (
        <ActionButton
          key={b.mode}
          size="small"
          pending={action.isPending(key('monitor'))}
          pendingLabel="…"
          disabled={b.mode === 'whisper' && !call.owner_agent_id}
          aria-label={`${b.label} on the call from ${caller}`}
          onClick={() => void setMode(b.mode)}
        >
          {b.label}
        </ActionButton>
      ))}
      {mine && (
        <>
          <ActionButton
            size="small"
            pending={action.isPending(key('stop'))}
            pendingLabel="Stopping…"
            aria-label={`Stop listening to the call from ${caller}`}
            onClick={() => void action.run(key('stop'), () => settle(api.DELETE('/api/calls/{id}/monitor', { params: { path: { id: call.id } } })))}
          >
            Stop
          </ActionButton>
          <ActionButton
            size="small"
            variant="warning"
            pending={action.isPending(key('take'))}
            pendingLabel="Taking over…"
            disabled={!mine.joined}
            aria-label={`Take over the call from ${caller}`}
            onClick={() => void action.run(key('take'), () => settle(api.POST('/api/calls/{id}/take-over', { params: { path: { id: call.id } } })))}
          >
            Take over
          </ActionButton>
        </>
      )}
    </span>
  );
}

/** Who is supervising the call, and how, for the board's row. */
export function monitorsLabel(call: CallSummary): string {
  return call.monitors.map((m) => `${m.name}: ${m.joined ? MONITOR_MODE_LABELS[m.mode] : 'ringing'}`).join(', ');
}
