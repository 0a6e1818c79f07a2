import { useQueryClient } from '@tanstack/react-query';
import { useEffect, useMemo, useState } from 'react';
import { settle, useApi, type AgentStatus } from '@/api';
import type { AgentView } from '@/api/types';
import { AgentsAdminPage } from '@/features/admin';
import { BoardPage } from '@/features/board';
import { SignOutButton, useRefreshMe, useSessionStore, type Session } from '@/features/auth';
import { CallDock, CallShortcuts, MyCallProvider, useMyCall } from '@/features/calls';
import { useAppConfig } from '@/features/config';
import { CallDetailPage, filtersFromParams, filtersToParams, HistoryPage } from '@/features/history';
import { MissedCallNotice, PresenceControl, usePresenceLists, type PresenceLists } from '@/features/presence';
import { useTeam } from '@/features/team';
import { useQueue } from '@/features/queue';
import { maySupervise, ROLE_LABELS } from '@/lib/agent-status';
import { formatPhone } from '@/lib/format';
import { apiEventStream, LiveEvents, LiveEventsProvider, useLiveEvent } from '@/live';
import {
  createVoiceClient,
  createWebAudioRinger,
  loadAudioPreferences,
  Phone,
  PhoneProvider,
  requestMicrophone,
  usePhoneState,
} from '@/voice';
import { Dashboard } from './Dashboard';
import { hrefs, navigate, useHashRoute, type Route } from './router';
import { StatusStrip } from './StatusStrip';

/** Presence states in which the browser phone stays registered (on a call counts). */
const PHONE_ON: ReadonlySet<AgentStatus> = new Set(['available', 'reserved', 'busy', 'wrap_up']);

/**
 * The signed-in page. Owns the per-session services: the live event stream and the browser phone
 * (Twilio or simulator by the server's mode), and keeps the phone registered exactly while the
 * agent should take calls.
 */
export function AppShell({ session }: { session: Session }) {
  const api = useApi();
  const config = useAppConfig();
  const queryClient = useQueryClient();
  const live = useMemo(() => new LiveEvents({ open: apiEventStream(api) }), [api]);
  const mode = config.status === 'ready' ? config.config.mode : null;
  const [phone, setPhone] = useState<Phone | null>(null);
  const agentId = session.agent.id;

  useEffect(() => {
    // Events missed while the stream was down are gone: after every (re)connect, refetch all
    // server state on screen; live events then keep it current.
    const offOpen = live.onOpen(() => void queryClient.invalidateQueries());
    live.start();
    const online = () => live.reconnectNow();
    window.addEventListener('online', online);
    return () => {
      window.removeEventListener('online', online);
      offOpen();
      live.stop();
    };
  }, [live, queryClient]);

  useEffect(() => {
    if (!mode) return;
    const created = new Phone(createVoiceClient(mode, { api, agentId, events: live }), { ringer: createWebAudioRinger() });
    setPhone(created);
    void created.setAudioDevices(loadAudioPreferences());
    // Browsers allow sound only after a user gesture: any click or key press unlocks the ringtone.
    const unlock = () => created.unlockAudio();
    window.addEventListener('pointerdown', unlock);
    window.addEventListener('keydown', unlock);
    return () => {
      window.removeEventListener('pointerdown', unlock);
      window.removeEventListener('keydown', unlock);
      created.destroy();
      setPhone(null);
    };
  }, [mode, api, agentId, live]);

  return (
    <LiveEventsProvider events={live}>
      <PhoneProvider phone={phone}>
        <MyCallProvider meId={agentId}>
          <Shell session={session} phone={phone} demo={mode === 'demo'} />
        </MyCallProvider>
      </PhoneProvider>
    </LiveEventsProvider>
  );
}

/**
 * Before going available: ask for the microphone now (the browser's prompt must not cover Accept
 * while a call rings), then register the phone. Live calls cannot work without a microphone; the
 * demo simulator has no audio, so there a refusal does not stop the agent.
 */
async function readyToTakeCalls(phone: Phone | null, demo: boolean): Promise<string | null> {
  const microphone = await requestMicrophone(loadAudioPreferences().inputId);
  if (microphone && !demo) return microphone;
  return phone ? phone.ensureRegistered() : null;
}

function Shell({ session, phone, demo }: { session: Session; phone: Phone | null; demo: boolean }) {
  const store = useSessionStore();
  const config = useAppConfig();
  const route = useHashRoute();
  const snapshot = usePhoneState();
  useRefreshMe();
  const { agent } = session;
  const isAdmin = agent.role === 'admin';
  const team = useTeam({ includeInactive: isAdmin });
  const presence = usePresenceLists();
  const api = useApi();
  const [goingAvailable, setGoingAvailable] = useState(false);

  async function goAvailable() {
    setGoingAvailable(true);
    try {
      if (await readyToTakeCalls(phone, demo)) return;
      const result = await settle(api.PUT('/api/me/status', { body: { status: 'available' } }));
      if (result.ok) store.updateAgent(result.data);
    } finally {
      setGoingAvailable(false);
    }
  }

  // This agent's own status changes (ringing, on a call, wrap-up) arrive as live events.
  useLiveEvent('agent', (changed) => {
    if (changed.id === agent.id) store.updateAgent(changed);
  });

  useEffect(() => {
    phone?.setWanted(PHONE_ON.has(agent.status));
  }, [phone, agent.status]);

  // The team board shows this agent as the server last answered, without waiting for a reload.
  const { upsert } = team;
  useEffect(() => {
    upsert(agent);
  }, [upsert, agent]);

  const { callerFor } = useMyCall();
  const ringingSid = snapshot.call.phase === 'ringing' ? snapshot.call.call.callSid : null;
  const ringingFrom = ringingSid ? formatPhone(callerFor(ringingSid) ?? (snapshot.call.phase === 'ringing' ? snapshot.call.call.from : null)) : null;
  const announcement = useRingingAnnouncement(ringingSid, ringingSid ? callerFor(ringingSid) : null, ringingFrom);
  useEffect(() => {
    document.title = ringingFrom ? `📞 Incoming call ${ringingFrom} · Warm Transfer` : 'Warm Transfer';
    return () => {
      document.title = 'Warm Transfer';
    };
  }, [ringingFrom]);

  return (
    <div className="shell">
      <header className="app-header">
        <div className="app-header__inner">
          <p className="brand">
            <span className="brand-mark" aria-hidden="true" />
            Warm Transfer
          </p>
          <nav className="app-nav" aria-label="Main">
            <NavLink href={hrefs.dashboard} current={route.name === 'dashboard'}>
              Dashboard
            </NavLink>
            <NavLink href={hrefs.history()} current={route.name === 'history' || route.name === 'call'}>
              History
            </NavLink>
            {maySupervise(agent.role) && (
              <NavLink href={hrefs.board} current={route.name === 'board'}>
                Board
              </NavLink>
            )}
            {isAdmin && (
              <NavLink href={hrefs.admin} current={route.name === 'admin'}>
                Agents
              </NavLink>
            )}
          </nav>
          <div className="me" aria-label="Signed in as">
            <span className="me__name" data-testid="agent-name">
              {agent.display_name}
            </span>
            <span className={`role-badge role-badge--${agent.role}`} data-testid="agent-role">
              {ROLE_LABELS[agent.role]}
            </span>
          </div>
          {/* Presence and sign out wrap together: a narrow header moves both to a second row, never Sign out alone. */}
          <div className="app-header__actions">
            <PresenceControl
              agent={agent}
              onChange={store.updateAgent}
              prepare={async (status) => {
                if (status !== 'available' || !phone) return null;
                const problem = await readyToTakeCalls(phone, demo);
                return problem ? `Your phone is not ready, so you stay ${agent.status === 'away' ? 'away' : 'offline'}: ${problem}` : null;
              }}
              onAbandon={() => phone?.setWanted(PHONE_ON.has(store.getState().session?.agent.status ?? 'offline'))}
              awayReasons={presence.awayReasons}
            />
            <SignOutButton />
          </div>
        </div>
        <StatusStrip actions={<CallShortcuts />} />
      </header>
      <div className="sr-only" aria-live="assertive" aria-atomic="true">
        {announcement}
      </div>
      <main id="main" className="main" tabIndex={-1}>
        <MissedCallNotice agent={agent} pending={goingAvailable} onGoAvailable={() => void goAvailable()} />
        {route.name !== 'dashboard' && <CallDock me={agent} team={team.agents} dashboardHref={hrefs.dashboard} />}
        <Page route={route} agent={agent} team={team} demo={demo} presence={presence} onAgentChange={store.updateAgent} />
      </main>
      <footer className="app-footer">
        <span>Warm Transfer</span>
        {config.status === 'ready' && <span>Server {config.config.version}</span>}
        {config.status === 'error' && <span role="status">Server configuration unavailable: {config.message}</span>}
      </footer>
    </div>
  );
}

function Page({
  route,
  agent,
  team,
  demo,
  presence,
  onAgentChange,
}: {
  route: Route;
  agent: Session['agent'];
  team: ReturnType<typeof useTeam>;
  demo: boolean;
  presence: PresenceLists;
  onAgentChange: (agent: Session['agent']) => void;
}) {
  switch (route.name) {
    case 'history':
      return (
        <HistoryPage
          key={route.params.toString()}
          me={agent}
          agents={team.agents}
          filters={filtersFromParams(route.params)}
          onFiltersChange={(filters) => navigate(hrefs.history(filtersToParams(filters)))}
          callHref={hrefs.call}
        />
      );
    case 'call':
      return <CallDetailPage id={route.id} agents={team.agents} backHref={hrefs.history()} />;
    case 'board':
      return maySupervise(agent.role) ? (
        <BoardRoute agents={team.agents} callHref={hrefs.call} meId={agent.id} />
      ) : (
        <p className="problem" role="alert">
          The live board is for supervisors and admins.
        </p>
      );
    case 'admin':
      return (
        <AgentsAdminPage
          me={agent}
          agents={team.agents}
          loading={team.loading}
          problem={team.problem}
          reload={team.reload}
          onListsChanged={presence.reload}
        />
      );
    default:
      return <Dashboard agent={agent} team={team} demo={demo} presence={presence} onAgentChange={onAgentChange} />;
  }
}

function NavLink({ href, current, children }: { href: string; current: boolean; children: string }) {
  return (
    <a className="app-nav__link" href={href} aria-current={current ? 'page' : undefined}>
      {children}
    </a>
  );
}

/**
 * What the assertive live region says about a ringing call: announced once, with the customer's
 * number as soon as the server confirms it (or what the phone shows after a second), so screen
 * readers do not hear it twice with two numbers.
 */
function useRingingAnnouncement(callSid: string | null, confirmed: string | null, fallback: string | null): string {
  const [late, setLate] = useState<string | null>(null);
  useEffect(() => {
    setLate(null);
    if (!callSid) return;
    const id = setTimeout(() => setLate(callSid), 1_000);
    return () => clearTimeout(id);
  }, [callSid]);
  if (!callSid) return '';
  if (confirmed) return `Incoming call from ${formatPhone(confirmed)}`;
  return late === callSid && fallback ? `Incoming call from ${fallback}` : '';
}

/** The board with the waiting queue it shows (features don't import each other; the app joins them). */
function BoardRoute({ agents, callHref, meId }: { agents: readonly AgentView[]; callHref: (id: string) => string; meId: string }) {
  const queue = useQueue();
  return <BoardPage agents={agents} queue={queue} callHref={callHref} meId={meId} />;
}
