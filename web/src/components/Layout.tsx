import { useEffect, useLayoutEffect, useRef, useState, type ReactNode } from 'react';
import { Link, NavLink, useLocation, useNavigate, useNavigationType } from 'react-router';
import { restorePosition, savedPosition, savePosition } from '../navigation/scroll';
import { useAuth } from '../auth/AuthContext';
import { useLive } from '../notifications/LiveContext';
import { describeError } from '../api/client';
import { Bell } from './Bell';

/**
 * After client-side navigation (not on the document's first load): moves
 * focus to the new page's h1, and scrolls to the top, or on Back and Forward
 * to where that entry was left.
 */
export function useFocusOnRouteChange() {
  const location = useLocation();
  const navigationType = useNavigationType();
  const { key } = location;

  // The app puts the scroll back itself: the browser would try before the page is drawn.
  useEffect(() => {
    if ('scrollRestoration' in window.history) window.history.scrollRestoration = 'manual';
  }, []);

  // Each scroll is saved for the entry on screen. The key moves on as soon as
  // the new page is in the DOM (a layout effect, before the browser fires the
  // scroll event of a shorter page), so that clamp is never saved as the old entry's place.
  const shown = useRef(key);
  useLayoutEffect(() => {
    shown.current = key;
  }, [key]);
  useEffect(() => {
    const save = () => savePosition(shown.current, window.scrollY);
    window.addEventListener('scroll', save, { passive: true });
    return () => window.removeEventListener('scroll', save);
  }, []);

  // The document's first load is not a navigation: the browser already put
  // the page where it belongs. React Router calls that entry "default", and
  // Back to it is "default" too, which must restore: only a layout that has
  // shown no other entry yet is on the first load.
  const firstKey = useRef(key);
  const navigated = useRef(false);
  useEffect(() => {
    if (key !== firstKey.current) navigated.current = true;
    if (key === 'default' && !navigated.current) return;
    const h1 = document.querySelector<HTMLElement>('main h1');
    (h1 ?? document.querySelector<HTMLElement>('main'))?.focus({ preventScroll: true });
    const y = navigationType === 'POP' ? savedPosition(key) : undefined;
    if (y === undefined) {
      window.scrollTo?.(0, 0);
      return;
    }
    return restorePosition(y);
  }, [key, navigationType]);
}

/** The skip link and the top bar with the brand; the signed-in layout adds its nav and controls after the brand. */
function TopBar({ children }: { children?: ReactNode }) {
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <div className="topbar__inner">
          <Link to="/" className="brand">
            Tidings
          </Link>
          {children}
        </div>
      </header>
    </>
  );
}

export function GuestLayout({ children }: { children: ReactNode }) {
  useFocusOnRouteChange();
  return (
    <div className="app">
      <TopBar />
      <main id="main" className="main main--narrow" tabIndex={-1}>
        {children}
      </main>
    </div>
  );
}

export function AppLayout({ children }: { children: ReactNode }) {
  useFocusOnRouteChange();
  const { logout } = useAuth();
  const { status, lastAnnouncement } = useLive();
  const navigate = useNavigate();
  const [logoutError, setLogoutError] = useState<string>();
  const [leaving, setLeaving] = useState(false);

  async function onLogout() {
    setLeaving(true);
    setLogoutError(undefined);
    try {
      await logout();
      navigate('/login', { replace: true });
    } catch (e) {
      setLogoutError(describeError(e));
    } finally {
      setLeaving(false);
    }
  }

  return (
    <div className="app">
      <TopBar>
        <nav aria-label="Main" className="nav">
          <NavLink to="/" end>
            Feed
          </NavLink>
          <NavLink to="/friends">Friends</NavLink>
          <NavLink to="/profile">Profile</NavLink>
        </nav>
        <div className="topbar__end">
          <Bell />
          <button type="button" className="button button--ghost" onClick={onLogout} disabled={leaving}>
            {leaving ? 'Logging out…' : 'Log out'}
          </button>
        </div>
      </TopBar>
      {status === 'reconnecting' && (
        <p className="banner" role="status">
          Live updates paused — reconnecting…
        </p>
      )}
      {logoutError && (
        <p className="banner banner--error" role="alert">
          {logoutError}
        </p>
      )}
      <p className="visually-hidden" aria-live="polite">
        {lastAnnouncement}
      </p>
      <main id="main" className="main" tabIndex={-1}>
        {children}
      </main>
    </div>
  );
}
