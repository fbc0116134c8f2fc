import { useQueryClient } from '@tanstack/react-query';
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { ApiError, setUnauthorizedListener } from '../api/client';
import { api } from '../api/tidings';
import type { User } from '../api/types';

export type AuthState =
  | { status: 'loading' }
  | { status: 'guest'; expired?: boolean }
  | { status: 'user'; user: User }
  | { status: 'error'; error: unknown };

interface AuthValue {
  state: AuthState;
  signedIn: (user: User) => void;
  /** Ends this session, or with `everywhere` every session of the account. */
  logout: (opts?: { everywhere?: boolean }) => Promise<void>;
  retry: () => void;
}

const AuthContext = createContext<AuthValue | null>(null);

export function AuthProvider({ children, loadMe = api.me }: { children: ReactNode; loadMe?: typeof api.me }) {
  const [state, setState] = useState<AuthState>({ status: 'loading' });
  const queryClient = useQueryClient();

  // Whoever signs in next must not see the last person's cached lists.
  const signedOut = state.status === 'guest';
  useEffect(() => {
    if (signedOut) queryClient.clear();
  }, [signedOut, queryClient]);

  // Asks who is signed in; the state is already 'loading' on the first ask.
  const ask = useCallback(() => {
    loadMe().then(
      (user) => setState({ status: 'user', user }),
      (err: unknown) => {
        if (err instanceof ApiError && err.status === 401) setState({ status: 'guest' });
        else setState({ status: 'error', error: err });
      },
    );
  }, [loadMe]);

  useEffect(() => {
    ask();
  }, [ask]);

  const check = useCallback(() => {
    setState({ status: 'loading' });
    ask();
  }, [ask]);

  // A 401 from any call means the session ended elsewhere (timeout, logout in another tab).
  useEffect(() => {
    setUnauthorizedListener(() => setState((s) => (s.status === 'user' ? { status: 'guest', expired: true } : s)));
    return () => setUnauthorizedListener(null);
  }, []);

  const logout = useCallback(async ({ everywhere = false } = {}) => {
    try {
      await api.logout(everywhere);
    } finally {
      setState({ status: 'guest' });
    }
  }, []);

  const value = useMemo<AuthValue>(
    () => ({ state, signedIn: (user) => setState({ status: 'user', user }), logout, retry: check }),
    [state, logout, check],
  );
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): AuthValue {
  const v = useContext(AuthContext);
  if (!v) throw new Error('useAuth outside AuthProvider');
  return v;
}

/** The signed-in person; only for pages behind RequireAuth. */
export function useMe(): User {
  const { state } = useAuth();
  if (state.status !== 'user') throw new Error('useMe without a signed-in user');
  return state.user;
}
