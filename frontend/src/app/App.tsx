import { useQueryClient } from '@tanstack/react-query';
import { useEffect } from 'react';
import { DemoBanner } from '@/components/DemoBanner';
import { SignInPage, useSession } from '@/features/auth';
import { useIsDemo } from '@/features/config';
import { AppShell } from './AppShell';
import { AppProvider, type AppServices } from './provider';

function Root() {
  const { session } = useSession();
  const demo = useIsDemo();
  const queryClient = useQueryClient();
  const signedIn = session !== null;
  // One agent's server state must not show to the next one signing in on this page.
  useEffect(() => {
    if (!signedIn) queryClient.clear();
  }, [signedIn, queryClient]);
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to main content
      </a>
      {demo && <DemoBanner />}
      {session ? <AppShell key={session.agent.id} session={session} /> : <SignInPage />}
    </>
  );
}

export function App({ services }: { services: AppServices }) {
  return (
    <AppProvider services={services}>
      <Root />
    </AppProvider>
  );
}
