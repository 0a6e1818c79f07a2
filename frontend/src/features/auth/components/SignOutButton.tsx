import { useSignOut } from '../hooks/use-sign-out';

export function SignOutButton() {
  const { signOut, pending } = useSignOut();
  return (
    <button type="button" className="button button--ghost" onClick={() => void signOut()} disabled={pending}>
      {pending ? 'Signing out…' : 'Sign out'}
    </button>
  );
}
