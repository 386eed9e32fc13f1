import { useCallback, useEffect, useState } from 'react';
import type { BffUser } from './api/types';
import { BffError, getUser, signOut } from './api/bff';
import { Dashboard } from './components/Dashboard';
import { SignIn } from './components/SignIn';

type Session =
  | { kind: 'loading' }
  | { kind: 'error'; message: string }
  | { kind: 'ready'; user: BffUser; notice: string | null };

/** Asks the BFF who is signed in; never throws. */
async function loadSession(notice: string | null, signal?: AbortSignal): Promise<Session> {
  try {
    return { kind: 'ready', user: await getUser(signal), notice };
  } catch (error) {
    return { kind: 'error', message: error instanceof BffError ? error.message : 'The dashboard server cannot be reached.' };
  }
}

export function App() {
  const [session, setSession] = useState<Session>({ kind: 'loading' });

  const loadUser = useCallback(async (notice: string | null = null) => setSession(await loadSession(notice)), []);

  useEffect(() => {
    const controller = new AbortController();
    void loadSession(null, controller.signal).then((loaded) => {
      if (!controller.signal.aborted) {
        setSession(loaded);
      }
    });
    return () => controller.abort();
  }, []);

  const onSignedOut = useCallback(() => void loadUser('Your session ended. Sign in again to resume the live view.'), [loadUser]);

  const user = session.kind === 'ready' ? session.user : null;

  return (
    <div className="app">
      <header className="topbar">
        <h1>
          <span className="logo" aria-hidden="true" />
          Live metrics
        </h1>
        {user?.isAuthenticated && (
          <div className="user">
            <span className="muted" data-testid="user-name">
              {user.name}
            </span>
            <button
              type="button"
              className="button button-quiet"
              onClick={async () => {
                await signOut().catch(() => undefined);
                await loadUser();
              }}
            >
              Sign out
            </button>
          </div>
        )}
      </header>
      {session.kind === 'loading' && <p className="muted center">Loading…</p>}
      {session.kind === 'error' && (
        <div className="banner banner-warn center" role="alert">
          {session.message}{' '}
          <button type="button" className="link-button" onClick={() => void loadUser()}>
            Try again
          </button>
        </div>
      )}
      {session.kind === 'ready' && !session.user.isAuthenticated && (
        <SignIn
          signInMode={session.user.signInMode}
          notice={session.notice}
          onSignedIn={(signedIn) => setSession({ kind: 'ready', user: signedIn, notice: null })}
        />
      )}
      {session.kind === 'ready' && session.user.isAuthenticated && <Dashboard user={session.user} onSignedOut={onSignedOut} />}
    </div>
  );
}
