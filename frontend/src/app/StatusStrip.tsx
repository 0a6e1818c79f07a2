import type { ReactNode } from 'react';
import { useLiveEvents, useLiveStatus } from '@/live';
import { useNow } from '@/lib/use-now';
import { usePhone, usePhoneState } from '@/voice';

const DEVICE_LABELS = {
  registered: 'Ready',
  registering: 'Connecting…',
  unregistered: 'Off',
  error: 'Problem',
} as const;

/**
 * Two small indicators an agent can trust at a glance: is the browser phone ready, and are the
 * live updates flowing. Problems expand into a message with a way to retry.
 */
export function StatusStrip({ actions }: { actions?: ReactNode }) {
  const phone = usePhone();
  const snapshot = usePhoneState();
  const live = useLiveEvents();
  const status = useLiveStatus();
  const now = useNow(1_000, status.state === 'reconnecting' || snapshot.retryAt !== null);
  const retryIn = status.retryAt ? Math.max(0, Math.ceil((status.retryAt - now) / 1000)) : null;
  const phoneRetryIn = snapshot.retryAt ? Math.max(0, Math.ceil((snapshot.retryAt - now) / 1000)) : null;
  const liveLabel =
    status.state === 'open'
      ? 'Live'
      : status.state === 'reconnecting'
        ? retryIn
          ? `Reconnecting in ${retryIn} s`
          : 'Reconnecting…'
        : status.state === 'stopped'
          ? 'Stopped'
          : 'Connecting…';
  const phoneKind = snapshot.mode === 'demo' ? 'Demo phone' : 'Phone';

  return (
    <div className="status-strip">
      <div className="status-strip__inner">
        {phone ? (
          <span className={`chip chip--${snapshot.device}`} data-testid="phone-status">
            <span className="chip__dot" aria-hidden="true" />
            {phoneKind}: {snapshot.wanted || snapshot.device !== 'unregistered' ? DEVICE_LABELS[snapshot.device] : 'Off (not available)'}
          </span>
        ) : (
          <span className="chip chip--registering" data-testid="phone-status">
            <span className="chip__dot" aria-hidden="true" />
            Phone: waiting for the server…
          </span>
        )}
        <span className={`chip chip--live-${status.state}`} data-testid="live-status" title={status.lastError ?? undefined}>
          <span className="chip__dot" aria-hidden="true" />
          Updates: {liveLabel}
        </span>
        {status.state === 'reconnecting' && (
          <button type="button" className="link-button" onClick={() => live.reconnectNow()}>
            Reconnect now
          </button>
        )}
        {actions && <div className="status-strip__actions">{actions}</div>}
      </div>
      {snapshot.error && (
        <div className="status-strip__alert" role="alert" data-testid="phone-error">
          <strong>{phoneKind} problem:</strong> {snapshot.error.message}
          {phoneRetryIn !== null && <span className="muted"> Retrying in {phoneRetryIn} s.</span>}
          {snapshot.wanted && snapshot.device !== 'registered' && (
            <button type="button" className="link-button" onClick={() => phone?.retry()}>
              Retry now
            </button>
          )}
          <button type="button" className="link-button" onClick={() => phone?.dismissError()}>
            Dismiss
          </button>
        </div>
      )}
      {status.state === 'reconnecting' && status.attempt >= 2 && (
        <p className="status-strip__note" role="status">
          Live updates are interrupted ({status.lastError ?? 'connection lost'}). Calls still ring; lists may be out of date.
        </p>
      )}
    </div>
  );
}
