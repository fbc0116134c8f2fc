// Renders the whole app at a path for page tests: signed in as `me`, the API
// answered by fakeFetch routes, and the live notification socket faked.
import { QueryClientProvider } from '@tanstack/react-query';
import { act, render } from '@testing-library/react';
import { useEffect } from 'react';
import { MemoryRouter, useNavigate, type NavigateFunction } from 'react-router';
import { afterEach, beforeEach, vi } from 'vitest';
import { AppRoutes } from '../App';
import type { Person, Post } from '../api/types';
import { AuthProvider } from '../auth/AuthContext';
import { FakeSocket } from '../notifications/fakeSocket';
import { newQueryClient } from '../query/client';
import { fakeFetch, json, type Handler } from './fakeFetch';

export const me = { id: 'u-ann', email: 'ann@example.com', name: 'Ann' };

export const post = (id: string, author: Person = { id: 'u-bob', name: 'Bob' }, text = `post ${id}`): Post => ({
  id,
  author,
  text,
  createdAt: new Date().toISOString(),
});

/** Call at the top of a test file: every test gets a fresh FakeSocket as WebSocket. */
export function stubWebSocketPerTest() {
  beforeEach(() => {
    FakeSocket.reset();
    vi.stubGlobal('WebSocket', FakeSocket);
  });
  afterEach(() => vi.unstubAllGlobals());
}

// Hands the router's navigate function to the test, as if the person followed a link.
function CaptureNavigate({ intoRef }: { intoRef: { current: NavigateFunction | null } }) {
  const navigate = useNavigate();
  useEffect(() => {
    intoRef.current = navigate;
  }, [intoRef, navigate]);
  return null;
}

export function renderApp(path: string, routes: Record<string, Handler>) {
  const nav: { current: NavigateFunction | null } = { current: null };
  const api = fakeFetch({
    'GET /api/notifications': () => json(200, { notifications: [], nextCursor: null, unread: 0 }),
    ...routes,
  });
  const utils = render(
    <QueryClientProvider client={newQueryClient()}>
      <AuthProvider loadMe={() => Promise.resolve(me)}>
        <MemoryRouter initialEntries={[path]}>
          <AppRoutes />
          <CaptureNavigate intoRef={nav} />
        </MemoryRouter>
      </AuthProvider>
    </QueryClientProvider>,
  );
  // A path, as if a link was followed, or a step in history (-1 is Back).
  const navigate = (to: string | number) => act(() => void (typeof to === 'number' ? nav.current?.(to) : nav.current?.(to)));
  return { ...utils, api, navigate };
}
