import type { ReactNode } from 'react';
import { Navigate, useLocation, useSearchParams } from 'react-router';
import { useAuth } from '../auth/AuthContext';
import { LiveProvider } from '../notifications/LiveContext';
import { AppLayout, GuestLayout } from './Layout';
import { ErrorState, Loading } from './States';

/** Pages for signed-in people: guests go to log in and come back afterwards. */
export function RequireAuth({ children }: { children: ReactNode }) {
  const { state, retry } = useAuth();
  const location = useLocation();
  if (state.status === 'loading') {
    return (
      <GuestLayout>
        <Loading label="Opening Tidings…" />
      </GuestLayout>
    );
  }
  if (state.status === 'error') {
    return (
      <GuestLayout>
        <h1 tabIndex={-1} className="page-heading">
          Tidings
        </h1>
        <ErrorState error={state.error} title="We couldn't open Tidings" onRetry={retry} />
      </GuestLayout>
    );
  }
  if (state.status === 'guest') {
    const next = location.pathname + location.search;
    const params = new URLSearchParams();
    if (next !== '/') params.set('next', next);
    if (state.expired) params.set('expired', '1');
    const q = params.toString();
    return <Navigate to={`/login${q ? `?${q}` : ''}`} replace />;
  }
  return (
    <LiveProvider key={state.user.id}>
      <AppLayout>{children}</AppLayout>
    </LiveProvider>
  );
}

/** Log in and sign up: signed-in people are sent on to the app. */
export function GuestOnly({ children }: { children: ReactNode }) {
  const { state } = useAuth();
  const [params] = useSearchParams();
  if (state.status === 'loading') {
    return (
      <GuestLayout>
        <Loading label="Opening Tidings…" />
      </GuestLayout>
    );
  }
  if (state.status === 'user') return <Navigate to={safeNext(params.get('next'))} replace />;
  return <GuestLayout>{children}</GuestLayout>;
}

/** Only follow `next` to a path on this site. */
export function safeNext(next: string | null): string {
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) return '/';
  return next;
}
