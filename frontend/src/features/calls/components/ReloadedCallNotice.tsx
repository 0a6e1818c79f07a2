import { useState } from 'react';
import type { CallDetail } from '@/api';
import { ActionButton } from '@/components/ActionButton';
import { formatPhone } from '@/lib/format';
import { usePhone } from '@/voice';

/**
 * After a reload during a call: the call did not end with the page. Says so, and says how the
 * audio comes back. The demo simulator's legs outlive the page, so the audio can be reconnected
 * here at once. The Voice SDK hangs up its calls when the page unloads (the reason for its
 * `closeProtection` prompt): the server sees the agent's line drop, plays the customer hold music
 * and rings this agent again first, so the agent picks the call up by answering.
 */
export function ReloadedCallNotice({ callSid, call, customerOnHold }: { callSid: string; call: CallDetail; customerOnHold: boolean }) {
  const phone = usePhone();
  const [pending, setPending] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const caller = formatPhone(call.from_number);

  async function reconnect() {
    if (!phone) return;
    setPending(true);
    setProblem(null);
    const failed = await phone.resume({ callSid, from: call.from_number, to: '', parameters: { call_id: call.id } });
    setPending(false);
    if (failed) setProblem(failed);
  }

  if (!phone?.canResume) {
    return (
      <div className="hint reload-notice" role="status" data-testid="reloaded-call">
        <p>
          <strong>Your call is still going.</strong> Reloading the page hung up this browser’s audio, so {caller} will hear hold
          music in a moment.
        </p>
        <p>This browser rings again as soon as the line drop is seen: answer it to take the call back.</p>
      </div>
    );
  }
  return (
    <div className="hint reload-notice" role="status" data-testid="reloaded-call">
      <p>
        <strong>Your call is still going.</strong> The page was reloaded, so the call’s audio stopped here, but {caller}{' '}
        {customerOnHold ? 'is on hold' : 'is still on the line'}.
      </p>
      <ActionButton variant="primary" pending={pending} pendingLabel="Reconnecting…" onClick={() => void reconnect()}>
        Reconnect audio
      </ActionButton>
      {problem && (
        <p className="problem" role="alert">
          {problem}
        </p>
      )}
    </div>
  );
}
