import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { settle, useApi, type ApiProblem, type CallDetail } from '@/api';
import { isFinalCall } from '@/lib/call-labels';
import { useLiveEvent, useLiveReconnect } from '@/live';
import { usePhoneState } from '@/voice';

export interface EndedCall {
  id: string;
  from: string;
  endedAt: number;
  /** This agent transferred the call away (it goes on without them). */
  handedOver: { agentId: string | null; number: string | null } | null;
}

export interface MyCallState {
  /** The call this agent is on or ringing for (`GET /api/me/call`); null when none. */
  call: CallDetail | null;
  /** The first answer arrived. */
  loaded: boolean;
  /** The last refresh failed (the panel keeps showing the last known call). */
  problem: ApiProblem | null;
  /** The call that just went away, for "Call ended · view in history". */
  lastEnded: EndedCall | null;
  /**
   * That call as the server now has it (`GET /api/calls/{id}`), kept current from its live
   * events: how a transfer this agent left ringing, or one cancelled on them, went.
   */
  lastEndedDetail: CallDetail | null;
  refresh: () => void;
  /** Apply a server answer at once (a participant after hold/mute), before the refresh lands. */
  patch: (update: (call: CallDetail) => CallDetail) => void;
  dismissEnded: () => void;
  /**
   * The customer's number for one of this agent's legs (by call SID), once the server has shown
   * it: a browser leg itself only carries the caller ID Twilio dialed it with.
   */
  callerFor: (callSid: string | null | undefined) => string | null;
}

const MyCallContext = createContext<MyCallState | null>(null);

const BUSY_POLL_MS = 5_000;
const IDLE_POLL_MS = 30_000;

/**
 * Keeps `GET /api/me/call` current for the whole page: on load, on every live reconnect, on live
 * `call` events about this call (or owned by / offered to this agent), on this agent's `agent`
 * events, whenever the browser phone changes phase, and on a slow timer as a safety net.
 * Single-flight: a burst of triggers costs one request plus at most one follow-up.
 */
export function MyCallProvider({ meId, children }: { meId: string; children: ReactNode }) {
  const api = useApi();
  const phone = usePhoneState();
  const [call, setCall] = useState<CallDetail | null>(null);
  const [loaded, setLoaded] = useState(false);
  const [problem, setProblem] = useState<ApiProblem | null>(null);
  const [lastEnded, setLastEnded] = useState<EndedCall | null>(null);
  const [lastEndedDetail, setLastEndedDetail] = useState<CallDetail | null>(null);
  const endedId = useRef<string | null>(null);
  const callRef = useRef<CallDetail | null>(null);
  const callers = useRef(new Map<string, string>());
  const inFlight = useRef(false);
  const again = useRef(false);
  const alive = useRef(true);

  const followEnded = useCallback(
    (id: string) => {
      void settle(api.GET('/api/calls/{id}', { params: { path: { id } } })).then((result) => {
        if (result.ok && alive.current && endedId.current === id) setLastEndedDetail(result.data);
      });
    },
    [api],
  );

  const apply = useCallback((next: CallDetail | null) => {
    if (next) {
      for (const p of next.participants) {
        if (p.agent_id === meId && p.call_sid) callers.current.set(p.call_sid, next.from_number);
      }
    }
    const prev = callRef.current;
    const current = next && !isFinalCall(next.status) ? next : null;
    if (prev && (!current || current.id !== prev.id)) {
      const handed = prev.transfers.find(
        (t) => t.from_agent_id === meId && (t.status === 'completed' || t.status === 'consulting' || (t.mode === 'cold' && t.status === 'dialing')),
      );
      setLastEnded({
        id: prev.id,
        from: prev.from_number,
        endedAt: Date.now(),
        handedOver: handed ? { agentId: handed.to_agent_id ?? null, number: handed.to_number ?? null } : null,
      });
      endedId.current = prev.id;
      setLastEndedDetail(prev);
      followEnded(prev.id);
    }
    if (current) setLastEnded((e) => (e && e.id === current.id ? null : e));
    callRef.current = current;
    setCall(current);
  }, [meId, followEnded]);

  const refresh = useCallback(() => {
    if (inFlight.current) {
      again.current = true;
      return;
    }
    inFlight.current = true;
    void (async () => {
      try {
        do {
          again.current = false;
          const result = await settle(api.GET('/api/me/call'));
          if (!alive.current) return;
          setLoaded(true);
          if (result.ok) {
            setProblem(null);
            apply(result.data.call ?? null);
          } else if (result.problem.status !== 401) {
            setProblem(result.problem);
          }
        } while (again.current && alive.current);
      } finally {
        inFlight.current = false;
      }
    })();
  }, [api, apply]);

  useEffect(() => {
    alive.current = true;
    refresh();
    return () => {
      alive.current = false;
    };
  }, [refresh]);

  useLiveReconnect(refresh);
  useLiveEvent('call', (summary) => {
    if (summary.id === endedId.current) followEnded(summary.id);
    const mine = callRef.current;
    if (
      (mine && summary.id === mine.id) ||
      summary.owner_agent_id === meId ||
      phone.call.phase === 'ringing' ||
      phone.call.phase === 'connected'
    ) {
      refresh();
    }
  });
  useLiveEvent('agent', (agent) => {
    if (agent.id === meId) refresh();
  });

  const phase = phone.call.phase;
  useEffect(() => {
    refresh();
  }, [phase, refresh]);

  const busy = call !== null || phase === 'ringing' || phase === 'connected';
  useEffect(() => {
    const id = setInterval(refresh, busy ? BUSY_POLL_MS : IDLE_POLL_MS);
    return () => clearInterval(id);
  }, [busy, refresh]);

  const patch = useCallback((update: (call: CallDetail) => CallDetail) => {
    const prev = callRef.current;
    if (!prev) return;
    const next = update(prev);
    callRef.current = next;
    setCall(next);
  }, []);

  const dismissEnded = useCallback(() => {
    endedId.current = null;
    setLastEnded(null);
    setLastEndedDetail(null);
  }, []);
  const callerFor = useCallback(
    (callSid: string | null | undefined) => (callSid ? (callers.current.get(callSid) ?? null) : null),
    // Re-derive when the call changes, so readers re-render with what was learnt.
    [call],
  );

  const value = useMemo<MyCallState>(
    () => ({ call, loaded, problem, lastEnded, lastEndedDetail, refresh, patch, dismissEnded, callerFor }),
    [call, loaded, problem, lastEnded, lastEndedDetail, refresh, patch, dismissEnded, callerFor],
  );
  return <MyCallContext.Provider value={value}>{children}</MyCallContext.Provider>;
}

export function useMyCall(): MyCallState {
  const value = useContext(MyCallContext);
  if (!value) throw new Error('useMyCall must be used inside <MyCallProvider>');
  return value;
}
