import { DemoBanner } from '@/components/DemoBanner';
import { SignInPage, useSession } from '@/features/auth';
import { useIsDemo } from '@/features/config';
import { AppShell } from './AppShell';
import { AppProvider, type AppServices } from './provider';

function Root() {
  const { session } = useSession();
  const demo = useIsDemo();
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
