// The page's only server: Dashboard.Web's backend-for-frontend endpoints under /bff. The browser
// holds an HttpOnly session cookie and never sees an access token; state-changing calls carry an
// antiforgery request token in a header.

import type { AntiforgeryToken, BffUser, ProblemDetails, StreamTicket } from './types';

export const StreamPath = '/api/stream/metrics';

export class BffError extends Error {
  readonly status: number;
  readonly problem: ProblemDetails | null;

  constructor(status: number, problem: ProblemDetails | null, fallback: string) {
    super(problem?.detail || problem?.title || fallback);
    this.name = 'BffError';
    this.status = status;
    this.problem = problem;
  }
}

let antiforgery: Promise<AntiforgeryToken> | null = null;

/** The antiforgery token for the current session; fetched once and cached until the user changes. */
export function getAntiforgeryToken(refresh = false): Promise<AntiforgeryToken> {
  if (refresh || antiforgery === null) {
    const request = getJson<AntiforgeryToken>('/bff/antiforgery');
    antiforgery = request;
    request.catch(() => {
      if (antiforgery === request) {
        antiforgery = null;
      }
    });
  }
  return antiforgery;
}

/** Antiforgery tokens are bound to the signed-in user: forget it after sign-in and sign-out. */
export function forgetAntiforgeryToken(): void {
  antiforgery = null;
}

export function getUser(signal?: AbortSignal): Promise<BffUser> {
  return getJson<BffUser>('/bff/user', signal);
}

/** Development sign-in with a user name (only offered when the server's signInMode is "development"). */
export async function signIn(userName: string): Promise<BffUser> {
  const user = await postJson<BffUser>('/bff/login', { userName });
  forgetAntiforgeryToken();
  return user;
}

/** OpenID Connect sign-in is a full-page navigation to the identity provider. */
export function signInWithRedirect(returnUrl = '/'): void {
  window.location.assign(`/bff/login?returnUrl=${encodeURIComponent(returnUrl)}`);
}

export async function signOut(): Promise<void> {
  const result = await postJson<{ redirectUrl: string | null }>('/bff/logout', undefined);
  forgetAntiforgeryToken();
  if (result.redirectUrl) {
    window.location.assign(result.redirectUrl);
  }
}

/** A single-use, short-lived ticket for opening the metrics stream with EventSource. */
export function getStreamTicket(signal?: AbortSignal): Promise<StreamTicket> {
  return postJson<StreamTicket>('/bff/stream-ticket', { path: StreamPath }, signal);
}

async function getJson<T>(url: string, signal?: AbortSignal): Promise<T> {
  const response = await fetch(url, {
    headers: { Accept: 'application/json' },
    credentials: 'same-origin',
    cache: 'no-store',
    signal,
  });
  return readJson<T>(response);
}

async function postJson<T>(url: string, body: unknown, signal?: AbortSignal, retried = false): Promise<T> {
  const token = await getAntiforgeryToken();
  const headers: Record<string, string> = { Accept: 'application/json', [token.headerName]: token.requestToken };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
  }
  const response = await fetch(url, {
    method: 'POST',
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'same-origin',
    cache: 'no-store',
    signal,
  });
  if (response.status === 400 && !retried && (await isAntiforgeryFailure(response.clone()))) {
    // The session changed under us (signed in or out in another tab): get a fresh token once.
    forgetAntiforgeryToken();
    return postJson<T>(url, body, signal, true);
  }
  return readJson<T>(response);
}

async function isAntiforgeryFailure(response: Response): Promise<boolean> {
  const problem = await readProblem(response);
  return problem?.type === 'urn:dashboard:antiforgery';
}

async function readJson<T>(response: Response): Promise<T> {
  if (!response.ok) {
    throw new BffError(response.status, await readProblem(response), `The server answered ${response.status}.`);
  }
  return (await response.json()) as T;
}

async function readProblem(response: Response): Promise<ProblemDetails | null> {
  const type = response.headers.get('Content-Type') ?? '';
  if (!type.includes('json')) {
    return null;
  }
  try {
    return (await response.json()) as ProblemDetails;
  } catch {
    return null;
  }
}
