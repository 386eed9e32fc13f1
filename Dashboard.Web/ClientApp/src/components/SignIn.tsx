import { useState, type FormEvent } from 'react';
import type { BffUser } from '../api/types';
import { BffError, signIn, signInWithRedirect } from '../api/bff';

export interface SignInProps {
  signInMode: BffUser['signInMode'];
  /** Why the page shows sign-in (e.g. the session ended while streaming). */
  notice?: string | null;
  onSignedIn: (user: BffUser) => void;
}

export function SignIn({ signInMode, notice, onSignedIn }: SignInProps) {
  const [userName, setUserName] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onSignedIn(await signIn(userName.trim()));
    } catch (failure) {
      setError(failure instanceof BffError ? failure.message : 'Sign-in failed; is the server running?');
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="signin panel" aria-labelledby="signin-title" data-testid="signin">
      <h2 id="signin-title">Sign in to see live metrics</h2>
      {notice && (
        <p className="banner banner-info" role="status">
          {notice}
        </p>
      )}
      {signInMode === 'development' && (
        <form onSubmit={submit} className="signin-form">
          <label htmlFor="userName">User name</label>
          <input
            id="userName"
            name="userName"
            autoComplete="username"
            required
            maxLength={64}
            value={userName}
            onChange={(event) => setUserName(event.target.value)}
            placeholder="e.g. ada"
          />
          <button type="submit" className="button" disabled={busy || userName.trim() === ''}>
            {busy ? 'Signing in…' : 'Sign in'}
          </button>
          <p className="muted small">
            Development sign-in: Dashboard.Web mints your access token with the AppHost&apos;s development issuer. It is
            never offered outside Development.
          </p>
        </form>
      )}
      {signInMode === 'openIdConnect' && (
        <button type="button" className="button" onClick={() => signInWithRedirect(window.location.pathname)}>
          Sign in with your organization account
        </button>
      )}
      {signInMode === 'none' && (
        <p className="muted">
          Sign-in is not configured on this server. In Development the AppHost gives Dashboard.Web a development issuer
          (<code>DevelopmentIssuer</code> settings); elsewhere configure OpenID Connect under{' '}
          <code>Authentication:Schemes:OpenIdConnect</code>.
        </p>
      )}
      {error && (
        <p className="banner banner-warn" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}
