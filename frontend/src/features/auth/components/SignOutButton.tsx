import { useSession } from '../hooks/session-context';
import { useSignOut } from '../hooks/use-sign-out';

/**
 * Sign out; when the server refuses (on a call) or cannot be reached, says why right here. On a
 * call the agent can still go, handing the caller back to the queue for a colleague.
 */
export function SignOutButton() {
  const { signOut, pending, problem, dismiss } = useSignOut();
  const status = useSession().session?.agent.status;
  const onCall = problem?.status === 409;
  return (
    <div className="sign-out">
      <button type="button" className="button button--ghost" onClick={() => void signOut()} disabled={pending}>
        {pending ? 'Signing out…' : 'Sign out'}
      </button>
      {problem && (
        <p className="sign-out__error" role="alert" data-code={problem.code}>
          {/* The server's 409 message is written for API clients (it names the hand_back
              parameter); the agent is told the same in their words, with the way out as a button. */}
          <span>Still signed in: {onCall ? onCallReason(status) : problem.message}</span>{' '}
          {onCall && (
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

function onCallReason(status: string | undefined): string {
  return status === 'reserved'
    ? 'a call is ringing for you. Answer or decline it first, or:'
    : 'you are on a call. Hang up, transfer or leave it first, or:';
}
