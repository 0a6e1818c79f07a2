import { SignOutButton, useRefreshMe, useSessionStore, type Session } from '@/features/auth';
import { useAppConfig } from '@/features/config';
import { PresenceControl } from '@/features/presence';
import { ROLE_LABELS } from '@/lib/agent-status';
import { Dashboard } from './Dashboard';

export function AppShell({ session }: { session: Session }) {
  const store = useSessionStore();
  const config = useAppConfig();
  useRefreshMe();
  const { agent } = session;

  return (
    <div className="shell">
      <header className="app-header">
        <div className="app-header__inner">
          <p className="brand">
            <span className="brand-mark" aria-hidden="true" />
            Warm Transfer
          </p>
          <div className="me" aria-label="Signed in as">
            <span className="me__name" data-testid="agent-name">
              {agent.display_name}
            </span>
            <span className={`role-badge role-badge--${agent.role}`} data-testid="agent-role">
              {ROLE_LABELS[agent.role]}
            </span>
          </div>
          <PresenceControl agent={agent} onChange={store.updateAgent} />
          <SignOutButton />
        </div>
      </header>
      <main id="main" className="main" tabIndex={-1}>
        <Dashboard agent={agent} />
      </main>
      <footer className="app-footer">
        <span>Warm Transfer</span>
        {config.status === 'ready' && <span>Server {config.config.version}</span>}
        {config.status === 'error' && <span role="status">Server configuration unavailable: {config.message}</span>}
      </footer>
    </div>
  );
}
