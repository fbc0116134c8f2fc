// Renders the whole app at a path for page tests: signed in as `me`, the API
// answered by fakeFetch routes, and the live notification socket faked.
import { act, render } from '@testing-library/react';
import { MemoryRouter, useNavigate, type NavigateFunction } from 'react-router';
import { afterEach, beforeEach, vi } from 'vitest';
import { AppRoutes } from '../App';
import type { Person, Post } from '../api/types';
import { AuthProvider } from '../auth/AuthContext';
import { FakeSocket } from '../notifications/fakeSocket';
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
function CaptureNavigate({ into }: { into: { current: NavigateFunction | null } }) {
  into.current = useNavigate();
  return null;
}

export function renderApp(path: string, routes: Record<string, Handler>) {
  const nav: { current: NavigateFunction | null } = { current: null };
  const api = fakeFetch({
    'GET /api/notifications': () => json(200, { notifications: [], nextCursor: null, unread: 0 }),
    ...routes,
  });
  const utils = render(
    <AuthProvider loadMe={() => Promise.resolve(me)}>
      <MemoryRouter initialEntries={[path]}>
        <AppRoutes />
        <CaptureNavigate into={nav} />
      </MemoryRouter>
    </AuthProvider>,
  );
  const navigate = (to: string) => act(() => void nav.current?.(to));
  return { ...utils, api, navigate };
}
