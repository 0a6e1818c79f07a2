import { useId, useState, type FormEvent } from 'react';
import { useSession, useSessionStore } from '../hooks/session-context';
import { useSignIn } from '../hooks/use-sign-in';

export function SignInPage() {
  const { notice } = useSession();
  const store = useSessionStore();
  const { signIn, pending, problem } = useSignIn();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const errorId = useId();

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    store.clearNotice();
    const ok = await signIn({ email: email.trim(), password });
    if (!ok) setPassword('');
  }

  return (
    <main id="main" className="signin">
      <div className="signin-card">
        <p className="brand brand--large" aria-hidden="true">
          <span className="brand-mark" />
          Warm Transfer
        </p>
        <h1 className="signin-title">Sign in</h1>
        <p className="muted">Agents and supervisors sign in to take and transfer calls.</p>

        {notice && !problem && (
          <p className="notice" role="status">
            {notice}
          </p>
        )}
        {problem && (
          <p className="alert alert--error" role="alert" id={errorId} data-code={problem.code}>
            {problem.message}
          </p>
        )}

        <form className="form" onSubmit={onSubmit} aria-describedby={problem ? errorId : undefined}>
          <div className="field">
            <label htmlFor="signin-email">Email</label>
            <input
              id="signin-email"
              name="email"
              type="email"
              autoComplete="username"
              inputMode="email"
              autoCapitalize="none"
              spellCheck={false}
              required
              value={email}
              onChange={(e) => setEmail(e.target.value)}
              aria-invalid={problem?.code === 'invalid_credentials' || undefined}
            />
          </div>
          <div className="field">
            <label htmlFor="signin-password">Password</label>
            <input
              id="signin-password"
              name="password"
              type="password"
              autoComplete="current-password"
              required
              value={password}
              onChange={(e) => setPassword(e.target.value)}
              aria-invalid={problem?.code === 'invalid_credentials' || undefined}
            />
          </div>
          <button type="submit" className="button button--primary button--block" disabled={pending}>
            {pending ? 'Signing in…' : 'Sign in'}
          </button>
        </form>
      </div>
    </main>
  );
}
