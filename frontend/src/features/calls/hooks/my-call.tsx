import { useQuery, useQueryClient } from '@tanstack/react-query';
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { orThrow, settle, useApi, type ApiProblem, type CallDetail, type MyCallResponse } from '@/api';
import { isFinalCall } from '@/lib/call-labels';
import { useLiveEvent } from '@/live';
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
  /**
   * The leg whose audio this tab had when the page was reloaded, while the server still shows it
   * up: the call goes on, and its audio can be reconnected here.
   */
  reloadedLeg: AudioLeg | null;
}

/** A browser leg this tab held the audio of, and the call it was in (once known). */
export interface AudioLeg {
  callSid: string;
  callId: string | null;
}

/**
 * Whether `participant` is the leg `leg` names: by sid, or (the server may not have recorded the
 * sid of an agent's leg) this agent's participant in the same call.
 */
export function isHeldLeg(leg: AudioLeg, call: CallDetail, participant: { call_sid?: string | null }): boolean {
  if (participant.call_sid) return participant.call_sid === leg.callSid;
  return leg.callId !== null && leg.callId === call.id;
}

/** Per tab (survives a reload, not a new tab): the leg whose audio this tab holds. */
const AUDIO_LEG_KEY = 'warm-transfer.audio-leg';

function audioLegStore() {
  const storage = (() => {
    try {
      return typeof window !== 'undefined' ? window.sessionStorage : null;
    } catch {
      return null;
    }
  })();
  return {
    read: (): AudioLeg | null => {
      try {
        const leg = JSON.parse(storage?.getItem(AUDIO_LEG_KEY) ?? 'null') as AudioLeg | null;
        return leg && typeof leg.callSid === 'string' ? { callSid: leg.callSid, callId: leg.callId ?? null } : null;
      } catch {
        return null;
      }
    },
    write: (leg: AudioLeg) => storage?.setItem(AUDIO_LEG_KEY, JSON.stringify(leg)),
    clear: () => storage?.removeItem(AUDIO_LEG_KEY),
  };
}

const MyCallContext = createContext<MyCallState | null>(null);

const MY_CALL_KEY = ['me', 'call'] as const;
const BUSY_POLL_MS = 5_000;
const IDLE_POLL_MS = 30_000;

/**
 * Keeps `GET /api/me/call` current for the whole page: on load, on every live reconnect (with every
 * other query), on live
 * `call` events about this call (or owned by / offered to this agent), on this agent's `agent`
 * events, whenever the browser phone changes phase, and on a slow timer as a safety net.
 * Single-flight: a burst of triggers costs one request plus at most one follow-up.
 */
export function MyCallProvider({ meId, children }: { meId: string; children: ReactNode }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const phone = usePhoneState();
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

  const phase = phone.call.phase;
  const query = useQuery({
    queryKey: MY_CALL_KEY,
    queryFn: async ({ signal }) => orThrow(await settle(api.GET('/api/me/call', { signal }))),
    refetchInterval: (q) => {
      const known = q.state.data?.call;
      const busy = (known && !isFinalCall(known.status)) || phase === 'ringing' || phase === 'connected';
      return busy ? BUSY_POLL_MS : IDLE_POLL_MS;
    },
  });
  const data = query.data;
  const current = data?.call && !isFinalCall(data.call.status) ? data.call : null;

  // Remember the customer's number per leg, and the call that just went away.
  useEffect(() => {
    if (!data) return;
    const next = data.call ?? null;
    if (next) {
      for (const p of next.participants) {
        if (p.agent_id === meId && p.call_sid) callers.current.set(p.call_sid, next.from_number);
      }
    }
    const prev = callRef.current;
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
  }, [data, current, meId, followEnded]);

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
          // A trigger wants an answer given after it: a load already in flight may predate it.
          await queryClient.refetchQueries({ queryKey: MY_CALL_KEY, exact: true });
        } while (again.current && alive.current);
      } finally {
        inFlight.current = false;
      }
    })();
  }, [queryClient]);

  useEffect(() => {
    alive.current = true;
    return () => {
      alive.current = false;
    };
  }, []);

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

  const firstPhase = useRef(true);
  useEffect(() => {
    // The mount itself loads the call; only later phase changes need a refresh.
    if (firstPhase.current) {
      firstPhase.current = false;
      return;
    }
    refresh();
  }, [phase, refresh]);

  const patch = useCallback(
    (update: (call: CallDetail) => CallDetail) => {
      queryClient.setQueryData<MyCallResponse>(MY_CALL_KEY, (prev) => (prev?.call ? { ...prev, call: update(prev.call) } : prev));
    },
    [queryClient],
  );

  const call = current;
  const loaded = data !== undefined || query.error !== null;
  // A failed refresh keeps the last known call; a 401 signs out (the middleware), nothing to say.
  const problem = query.error && query.error.status !== 401 ? query.error : null;

  // Remember the leg this tab holds the audio of, so that after a reload the page can tell the
  // agent the call is still up; forget it when the leg ends here or the server no longer shows it.
  const legs = useMemo(audioLegStore, []);
  const [reloadedLeg, setReloadedLeg] = useState<AudioLeg | null>(() => legs.read());
  const heldSid = phone.call.phase === 'connected' ? phone.call.call.callSid : null;
  const heldCallId = heldSid ? (current?.id ?? null) : null;
  const held = useRef<string | null>(null);
  useEffect(() => {
    if (heldSid) {
      legs.write({ callSid: heldSid, callId: heldCallId });
      held.current = heldSid;
      setReloadedLeg(null);
    } else if (held.current) {
      legs.clear();
      held.current = null;
    }
  }, [heldSid, heldCallId, legs]);
  useEffect(() => {
    if (!reloadedLeg || !data) return;
    // Forget it once the server shows no call, or another one; a leg not (yet) shown connected in
    // the same call is only not offered (ActiveCall checks), since the server may lag a moment.
    const gone = current === null || (reloadedLeg.callId !== null && current.id !== reloadedLeg.callId);
    if (gone) {
      legs.clear();
      setReloadedLeg(null);
    }
  }, [reloadedLeg, data, current, legs]);

  const dismissEnded = useCallback(() => {
    endedId.current = null;
    setLastEnded(null);
    setLastEndedDetail(null);
  }, []);
  const callerFor = useCallback(
    (callSid: string | null | undefined) => (callSid ? (callers.current.get(callSid) ?? null) : null),
    // Re-derived when the call changes, so readers re-render with what was learnt.
    // eslint-disable-next-line react-hooks/exhaustive-deps -- `call` is the trigger, not an input
    [call],
  );

  const value = useMemo<MyCallState>(
    () => ({ call, loaded, problem, lastEnded, lastEndedDetail, refresh, patch, dismissEnded, callerFor, reloadedLeg }),
    [call, loaded, problem, lastEnded, lastEndedDetail, refresh, patch, dismissEnded, callerFor, reloadedLeg],
  );
  return <MyCallContext.Provider value={value}>{children}</MyCallContext.Provider>;
}

export function useMyCall(): MyCallState {
  const value = useContext(MyCallContext);
  if (!value) throw new Error('useMyCall must be used inside <MyCallProvider>');
  return value;
}
