import { act, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import type { FriendRequest, Person } from '../api/types';
import { FakeSocket } from '../notifications/fakeSocket';
import { json, type Handler } from '../testing/fakeFetch';
import { me, renderApp, stubWebSocketPerTest } from '../testing/renderApp';

stubWebSocketPerTest();

const bob: Person = { id: 'u-bob', name: 'Bob' };
const cy: Person = { id: 'u-cy', name: 'Cy' };
const dee: Person = { id: 'u-dee', name: 'Dee' };
const ann: Person = { id: me.id, name: me.name };
const request = (id: string, from: Person, to: Person): FriendRequest => ({ id, from, to, status: 'pending' });

/** A small friends server: the lists change only when an action succeeds. */
function friendsServer(init: { incoming?: FriendRequest[]; outgoing?: FriendRequest[]; friends?: Person[] }) {
  const state = { incoming: init.incoming ?? [], outgoing: init.outgoing ?? [], friends: init.friends ?? [] };
  const routes: Record<string, Handler> = {
    'GET /api/friends/requests': () => json(200, { incoming: state.incoming, outgoing: state.outgoing }),
    'GET /api/friends': () => json(200, { friends: state.friends }),
  };
  return { state, routes };
}

const unavailable = () => json(503, { title: 'Service Unavailable', status: 503 });
const problem = (status: number, detail: string) => json(status, { title: 'Problem', status, detail });

describe('friends', () => {
  it('searches, sends a request, and accepts an incoming one', async () => {
    let relation = 'none';
    const { api } = renderApp('/friends', {
      'GET /api/users': () =>
        json(200, {
          users: [
            { id: 'u-bob', name: 'Bob', relation },
            { id: 'u-cy', name: 'Cy', relation: 'incoming' },
          ],
        }),
      'GET /api/friends/requests': () =>
        json(200, {
          incoming: [{ id: 'r-cy', from: { id: 'u-cy', name: 'Cy' }, to: { id: me.id, name: me.name }, status: 'pending' }],
          outgoing: [],
        }),
      'GET /api/friends': () => json(200, { friends: [] }),
      'POST /api/friends/requests': () => {
        relation = 'outgoing';
        return json(201, { id: 'r-1', from: me, to: { id: 'u-bob', name: 'Bob' }, status: 'pending' });
      },
      'POST /api/friends/requests/r-cy/accept': () => json(200, { id: 'r-cy', status: 'accepted' }),
    });
    const user = userEvent.setup();
    expect(await screen.findByText('No friends yet. Search above to find people you know.')).toBeInTheDocument();
    await user.type(screen.getByRole('searchbox', { name: 'Search people' }), 'b');
    await user.click(screen.getByRole('button', { name: 'Search' }));
    const results = await screen.findByRole('list', { name: 'Search results' });
    await user.click(within(results).getByRole('button', { name: 'Add friend: Bob' }));
    expect(await screen.findByText('Friend request sent to Bob.')).toBeInTheDocument();
    expect(api.calls.find((c) => c.url === '/api/friends/requests' && c.method === 'POST')?.body).toEqual({ userId: 'u-bob' });
    expect(api.calls.some((c) => c.url.startsWith('/api/users?q=b'))).toBe(true);

    const received = screen.getByRole('list', { name: 'Requests received' });
    await user.click(within(received).getByRole('button', { name: 'Accept: Cy' }));
    expect(await screen.findByText('You and Cy are now friends.')).toBeInTheDocument();
    expect(api.calls.some((c) => c.method === 'POST' && c.url === '/api/friends/requests/r-cy/accept')).toBe(true);
  });

  it('finds people by any word of the name and tells namesakes apart', async () => {
    const server = friendsServer({});
    const { api } = renderApp('/friends', {
      ...server.routes,
      'GET /api/users': () =>
        json(200, {
          users: [
            { id: 'u-a1', name: 'Ann Archer', relation: 'none', mutualFriends: 2, joined: '2026-03' },
            { id: 'u-a2', name: 'Ann Archer', relation: 'none', mutualFriends: 0, joined: '2025-11' },
          ],
        }),
    });
    const user = userEvent.setup();
    expect(await screen.findByText("Type any word of a name (first or last), or someone's whole email address.")).toBeInTheDocument();
    await user.type(screen.getByRole('searchbox', { name: 'Search people' }), 'archer');
    await user.click(screen.getByRole('button', { name: 'Search' }));
    const results = await screen.findByRole('list', { name: 'Search results' });
    const rows = within(results).getAllByRole('listitem');
    expect(rows.map((r) => r.textContent)).toEqual([
      expect.stringContaining('2 friends in common · Joined March 2026'),
      expect.stringContaining('No friends in common · Joined November 2025'),
    ]);
    expect(api.calls.some((c) => c.url === '/api/users?q=archer')).toBe(true);
  });

  it('declines an incoming request and drops it from the list', async () => {
    const server = friendsServer({ incoming: [request('r-cy', cy, ann), request('r-dee', dee, ann)] });
    const { api } = renderApp('/friends', {
      ...server.routes,
      'POST /api/friends/requests/r-cy/decline': () => {
        server.state.incoming = server.state.incoming.filter((r) => r.id !== 'r-cy');
        return json(204, undefined);
      },
    });
    const user = userEvent.setup();
    const received = await screen.findByRole('list', { name: 'Requests received' });
    await user.click(within(received).getByRole('button', { name: 'Decline: Cy' }));

    expect(await screen.findByText('Request from Cy declined.')).toBeInTheDocument();
    const sent = api.calls.filter((c) => c.method === 'POST' && c.url === '/api/friends/requests/r-cy/decline');
    expect(sent).toHaveLength(1);
    expect(sent[0].headers['X-Requested-With']).toBe('tidings');
    await waitFor(() => expect(within(received).queryByText('Cy')).not.toBeInTheDocument());
    expect(within(received).getByText('Dee')).toBeInTheDocument();
    expect(api.calls.some((c) => c.url.includes('/r-dee/'))).toBe(false);
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
  });

  it('says so when declining fails, and keeps the request', async () => {
    const server = friendsServer({ incoming: [request('r-cy', cy, ann)] });
    renderApp('/friends', { ...server.routes, 'POST /api/friends/requests/r-cy/decline': unavailable });
    const user = userEvent.setup();
    const received = await screen.findByRole('list', { name: 'Requests received' });
    await user.click(within(received).getByRole('button', { name: 'Decline: Cy' }));

    expect(await screen.findByRole('alert')).toHaveTextContent('Tidings is having trouble right now');
    expect(screen.queryByText('Request from Cy declined.')).not.toBeInTheDocument();
    const row = within(screen.getByRole('list', { name: 'Requests received' }));
    expect(row.getByText('Cy')).toBeInTheDocument();
    await waitFor(() => expect(row.getByRole('button', { name: 'Decline: Cy' })).toBeEnabled());
  });

  it('cancels an outgoing request and drops it from the list', async () => {
    const server = friendsServer({ outgoing: [request('r-bob', ann, bob)], friends: [cy] });
    const { api } = renderApp('/friends', {
      ...server.routes,
      'DELETE /api/friends/requests/r-bob': () => {
        server.state.outgoing = [];
        return json(204, undefined);
      },
    });
    const user = userEvent.setup();
    const sentList = await screen.findByRole('list', { name: 'Requests sent' });
    await user.click(within(sentList).getByRole('button', { name: 'Cancel request: Bob' }));

    expect(await screen.findByText('Request to Bob cancelled.')).toBeInTheDocument();
    const sent = api.calls.filter((c) => c.method === 'DELETE' && c.url === '/api/friends/requests/r-bob');
    expect(sent).toHaveLength(1);
    expect(sent[0].headers['X-Requested-With']).toBe('tidings');
    expect(await screen.findByText('No pending requests.')).toBeInTheDocument();
    expect(screen.queryByRole('list', { name: 'Requests sent' })).not.toBeInTheDocument();
    expect(within(screen.getByRole('list', { name: 'Friends list' })).getByText('Cy')).toBeInTheDocument();
  });

  it('cancels from a search result too', async () => {
    const server = friendsServer({ outgoing: [request('r-bob', ann, bob)] });
    const { api } = renderApp('/friends', {
      ...server.routes,
      'GET /api/users': () =>
        json(200, { users: [{ ...bob, relation: server.state.outgoing.length > 0 ? 'outgoing' : 'none' }] }),
      'DELETE /api/friends/requests/r-bob': () => {
        server.state.outgoing = [];
        return json(204, undefined);
      },
    });
    const user = userEvent.setup();
    await screen.findByRole('list', { name: 'Requests sent' });
    await user.type(screen.getByRole('searchbox', { name: 'Search people' }), 'bo');
    await user.click(screen.getByRole('button', { name: 'Search' }));
    const results = await screen.findByRole('list', { name: 'Search results' });
    await user.click(within(results).getByRole('button', { name: 'Cancel request: Bob' }));

    expect(await screen.findByText('Request to Bob cancelled.')).toBeInTheDocument();
    expect(api.calls.find((c) => c.method === 'DELETE')?.headers['X-Requested-With']).toBe('tidings');
    // The search result is asked again and offers a new request.
    expect(await within(results).findByRole('button', { name: 'Add friend: Bob' })).toBeInTheDocument();
  });

  it('says so when cancelling fails, with the server’s reason', async () => {
    const server = friendsServer({ outgoing: [request('r-bob', ann, bob)] });
    renderApp('/friends', {
      ...server.routes,
      'DELETE /api/friends/requests/r-bob': () => problem(409, 'Bob already answered that request.'),
    });
    const user = userEvent.setup();
    const sentList = await screen.findByRole('list', { name: 'Requests sent' });
    await user.click(within(sentList).getByRole('button', { name: 'Cancel request: Bob' }));

    expect(await screen.findByRole('alert')).toHaveTextContent('Bob already answered that request.');
    expect(screen.queryByText('Request to Bob cancelled.')).not.toBeInTheDocument();
    expect(within(screen.getByRole('list', { name: 'Requests sent' })).getByText('Bob')).toBeInTheDocument();
  });

  it('unfriends after asking to confirm, and "Keep" changes nothing', async () => {
    const server = friendsServer({ friends: [bob, cy] });
    const { api } = renderApp('/friends', {
      ...server.routes,
      'DELETE /api/friends/u-bob': () => {
        server.state.friends = server.state.friends.filter((f) => f.id !== 'u-bob');
        return json(204, undefined);
      },
    });
    const user = userEvent.setup();
    const list = await screen.findByRole('list', { name: 'Friends list' });

    await user.click(within(list).getByRole('button', { name: 'Unfriend: Bob' }));
    expect(within(list).getByText('Unfriend Bob?')).toBeInTheDocument();
    await user.click(within(list).getByRole('button', { name: 'Keep: Bob' }));
    expect(within(list).queryByText('Unfriend Bob?')).not.toBeInTheDocument();
    expect(api.calls.some((c) => c.method === 'DELETE')).toBe(false);

    await user.click(within(list).getByRole('button', { name: 'Unfriend: Bob' }));
    await user.click(within(list).getByRole('button', { name: 'Yes, unfriend: Bob' }));
    expect(await screen.findByText('You and Bob are no longer friends.')).toBeInTheDocument();
    const sent = api.calls.filter((c) => c.method === 'DELETE');
    expect(sent.map((c) => c.url)).toEqual(['/api/friends/u-bob']);
    expect(sent[0].headers['X-Requested-With']).toBe('tidings');
    await waitFor(() => expect(within(list).queryByText('Bob')).not.toBeInTheDocument());
    expect(within(list).getByRole('link', { name: 'Cy' })).toHaveAttribute('href', '/users/u-cy');
  });

  it('says so when unfriending fails, and keeps the friend', async () => {
    const server = friendsServer({ friends: [bob] });
    renderApp('/friends', { ...server.routes, 'DELETE /api/friends/u-bob': unavailable });
    const user = userEvent.setup();
    const list = await screen.findByRole('list', { name: 'Friends list' });
    await user.click(within(list).getByRole('button', { name: 'Unfriend: Bob' }));
    await user.click(within(list).getByRole('button', { name: 'Yes, unfriend: Bob' }));

    expect(await screen.findByRole('alert')).toHaveTextContent('Tidings is having trouble right now');
    expect(screen.queryByText('You and Bob are no longer friends.')).not.toBeInTheDocument();
    const after = within(screen.getByRole('list', { name: 'Friends list' }));
    expect(after.getByRole('link', { name: 'Bob' })).toBeInTheDocument();
    expect(after.getByRole('button', { name: 'Unfriend: Bob' })).toBeEnabled();
  });

  // A live friend event reloads the lists. If that reload answers only after
  // the reload that follows an action, its older lists must not win.
  it.each([
    {
      what: 'a declined request',
      start: { incoming: [request('r-cy', cy, ann), request('r-dee', dee, ann)] },
      list: 'Requests received',
      route: 'POST /api/friends/requests/r-cy/decline',
      apply: (s: ReturnType<typeof friendsServer>['state']) => (s.incoming = s.incoming.filter((r) => r.id !== 'r-cy')),
      clicks: ['Decline: Cy'],
      gone: 'Cy',
      stays: 'Dee',
    },
    {
      what: 'a removed friend',
      start: { friends: [cy, dee] },
      list: 'Friends list',
      route: 'DELETE /api/friends/u-cy',
      apply: (s: ReturnType<typeof friendsServer>['state']) => (s.friends = s.friends.filter((f) => f.id !== 'u-cy')),
      clicks: ['Unfriend: Cy', 'Yes, unfriend: Cy'],
      gone: 'Cy',
      stays: 'Dee',
    },
  ])('does not bring back $what when an older reload answers late', async (c) => {
    const server = friendsServer(c.start);
    const held: (() => void)[] = [];
    let hold = false;
    // Answers with the lists as they were when asked, later if told to hold.
    const snapshot = (body: () => unknown): Handler => () => {
      const r = json(200, body());
      return hold ? new Promise<Response>((resolve) => held.push(() => resolve(r))) : r;
    };
    renderApp('/friends', {
      'GET /api/friends/requests': snapshot(() => ({ incoming: server.state.incoming, outgoing: server.state.outgoing })),
      'GET /api/friends': snapshot(() => ({ friends: server.state.friends })),
      [c.route]: () => {
        c.apply(server.state);
        return json(204, undefined);
      },
    });
    const user = userEvent.setup();
    const list = await screen.findByRole('list', { name: c.list });
    act(() => FakeSocket.latest().open());

    hold = true;
    act(() =>
      FakeSocket.latest().receive({
        id: 'n1',
        type: 'friend.requested',
        actor: { id: 'u-eve', name: 'Eve' },
        text: 'Eve sent you a friend request',
        read: false,
        createdAt: new Date().toISOString(),
      }),
    );
    await waitFor(() => expect(held.length).toBe(2));
    hold = false;
    for (const name of c.clicks) await user.click(within(list).getByRole('button', { name }));
    await waitFor(() => expect(within(list).queryByText(c.gone)).not.toBeInTheDocument());

    await act(async () => {
      for (const release of held) release();
      for (let i = 0; i < 10; i++) await new Promise((r) => setTimeout(r, 0));
    });
    expect(within(screen.getByRole('list', { name: c.list })).queryByText(c.gone)).not.toBeInTheDocument();
    expect(within(screen.getByRole('list', { name: c.list })).getByText(c.stays)).toBeInTheDocument();
  });
});
