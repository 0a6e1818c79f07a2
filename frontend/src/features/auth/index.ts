export {
  createSessionStore,
  browserStorage,
  SESSION_EXPIRED_NOTICE,
  SESSION_STORAGE_KEY,
  type Session,
  type SessionState,
  type SessionStore,
} from './session-store';
export { SessionProvider, useSession, useSessionStore } from './hooks/session-context';
export { useSignIn } from './hooks/use-sign-in';
export { useSignOut } from './hooks/use-sign-out';
export { useRefreshMe } from './hooks/use-refresh-me';
export { SignInPage } from './components/SignInPage';
export { SignOutButton } from './components/SignOutButton';
