import { useSignOut } from '../hooks/use-sign-out';

/**
 * Sign out; when the server refuses (on a call) or cannot be reached, says why right here. On a
 * call the agent can still go, handing the caller back to the queue for a colleague.
 */
export function SignOutButton() {
  const { signOut, pending, problem, dismiss } = useSignOut();
  return (
    <div className="sign-out">
      <button type="button" className="button button--ghost" onClick={() => void signOut()} disabled={pending}>
        {pending ? 'Signing out…' : 'Sign out'}
      </button>
      {problem && (
        <p className="sign-out__error" role="alert" data-code={problem.code}>
          <span>Still signed in: {problem.message}</span>{' '}
          {problem.status === 409 && (
            <>
              <button type="button" className="link-button" onClick={() => void signOut({ handBack: true })}>
                Sign out and send the caller back to the queue
              </button>{' '}
            </>
          )}
          <button type="button" className="link-button" onClick={dismiss}>
            Dismiss
          </button>
        </p>
      )}
    </div>
  );
}
