// The console's shell: sign-in, the navigation between pages (by the URL's #fragment, so a page survives signing in
// again), and who is signed in. An auditor token gets the same pages without any control that changes something.
import { useEffect, useState } from 'preact/hooks';
import { ApiError, describeError, request, whenSessionEnds } from './api.ts';
import { AttemptsPage } from './pages/attempts.tsx';
import { DevicesPage } from './pages/devices.tsx';
import { HistoryPage } from './pages/history.tsx';
import { OverviewPage } from './pages/overview.tsx';
import { SecurityPage } from './pages/security.tsx';
import { TrustPage } from './pages/trust.tsx';
import { currentToken, forgetToken, keepToken, type Session } from './session.ts';
import { FieldError, Notice } from './ui.tsx';

const PAGES = [
  { path: 'overview', title: 'Overview' },
  { path: 'security', title: 'Security' },
  { path: 'trust', title: 'Trust' },
  { path: 'devices', title: 'Devices' },
  { path: 'history', title: 'History' },
  { path: 'attempts', title: 'Attempts' },
] as const;

type PagePath = (typeof PAGES)[number]['path'];

/** The page and its argument from `#/devices/C02XK1JHJG5J`. */
function readRoute(): { page: PagePath; arg?: string } {
  const [page, ...rest] = location.hash.replace(/^#\/?/, '').split('/');
  const known = PAGES.find((p) => p.path === page);
  return { page: known ? known.path : 'overview', arg: rest.length > 0 && rest[0] !== '' ? decodeURIComponent(rest.join('/')) : undefined };
}

function useRoute() {
  const [route, setRoute] = useState(readRoute);
  useEffect(() => {
    const update = () => setRoute(readRoute());
    addEventListener('hashchange', update);
    return () => removeEventListener('hashchange', update);
  }, []);
  return route;
}

/** Who a token belongs to: GET /admin/whoami (any valid token may call it). */
async function whoami(token?: string): Promise<Session> {
  const { body } = await request<Session>('GET', '/admin/whoami', { token });
  return { name: body.name, role: body.role };
}

function SignIn({ onSignedIn, notice }: { onSignedIn: (session: Session) => void; notice?: string }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    const typed = token.trim();
    if (!typed) {
      setError('Paste the admin token that npm start printed, or one from ADMIN_TOKENS.');
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      const session = await whoami(typed);
      keepToken(typed);
      onSignedIn(session);
    } catch (caught) {
      setError(caught instanceof ApiError && caught.status === 401 ? `This token was not accepted (${caught.message}). Check it and try again.` : describeError(caught));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="sign-in" id="main">
      <h1>Tollgate</h1>
      <form onSubmit={submit} noValidate>
        {notice && <Notice kind="info">{notice}</Notice>}
        <label for="admin-token">Admin token</label>
        <input
          id="admin-token"
          type="password"
          autocomplete="off"
          spellcheck={false}
          value={token}
          onInput={(e) => setToken(e.currentTarget.value)}
          aria-describedby="admin-token-error"
          aria-invalid={error ? 'true' : undefined}
        />
        <FieldError id="admin-token-error" message={error} />
        <button type="submit" class="primary" disabled={busy}>
          Sign in
        </button>
        <p class="hint">The token is kept in this browser tab only, until you sign out or close the tab.</p>
      </form>
    </main>
  );
}

export function App() {
  const route = useRoute();
  const [session, setSession] = useState<Session>();
  const [checking, setChecking] = useState(currentToken() !== undefined);
  const [signInNotice, setSignInNotice] = useState<string>();

  useEffect(() => {
    whenSessionEnds(() => {
      forgetToken();
      setSession(undefined);
      setSignInNotice('Your session has ended: the token is no longer accepted. Sign in again to go on where you were.');
    });
    if (!currentToken()) return;
    whoami()
      .then(setSession)
      .catch(() => undefined)
      .finally(() => setChecking(false));
  }, []);

  const title = PAGES.find((p) => p.path === route.page)!.title;
  useEffect(() => {
    document.title = session ? `${title} · Tollgate` : 'Sign in · Tollgate';
  }, [title, session]);

  if (checking) return <p class="loading">Loading the Tollgate console…</p>;
  if (!session) {
    return (
      <SignIn
        notice={signInNotice}
        onSignedIn={(signedIn) => {
          setSignInNotice(undefined);
          setSession(signedIn);
        }}
      />
    );
  }
  const readOnly = session.role !== 'admin';
  const signOut = () => {
    forgetToken();
    setSignInNotice(undefined);
    setSession(undefined);
  };
  return (
    <>
      <a class="skip" href="#main" onClick={(e) => { e.preventDefault(); document.getElementById('main')?.focus(); }}>
        Skip to content
      </a>
      <header class="top">
        <span class="brand">Tollgate</span>
        <nav aria-label="Pages">
          <ul>
            {PAGES.map((page) => (
              <li key={page.path}>
                <a href={`#/${page.path}`} aria-current={page.path === route.page ? 'page' : undefined}>
                  {page.title}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <div class="who">
          <span>
            {session.name} ({session.role})
          </span>
          <button type="button" onClick={signOut}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <h1>{title}</h1>
        {readOnly && <Notice kind="info">Read-only: you are signed in as an auditor, so nothing here can be changed.</Notice>}
        {route.page === 'overview' && <OverviewPage />}
        {route.page === 'security' && <SecurityPage readOnly={readOnly} />}
        {route.page === 'trust' && <TrustPage readOnly={readOnly} />}
        {route.page === 'devices' && <DevicesPage readOnly={readOnly} deviceId={route.arg} />}
        {route.page === 'history' && <HistoryPage />}
        {route.page === 'attempts' && <AttemptsPage />}
      </main>
    </>
  );
}
