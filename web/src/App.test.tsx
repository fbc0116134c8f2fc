import { act, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { FakeSocket } from './notifications/fakeSocket';
import { json } from './testing/fakeFetch';
import { me, post, renderApp, stubWebSocketPerTest } from './testing/renderApp';

stubWebSocketPerTest();

/** Waits until the app has opened its live socket, which it does after its first reads. */
const socketOpened = () => waitFor(() => expect(FakeSocket.instances.length).toBeGreaterThan(0));

describe('the notification bell', () => {
  it('counts live notifications, shows a drop, and resyncs after reconnecting', async () => {
    let unread = 2;
    renderApp('/', {
      'GET /api/posts': () => json(200, { posts: [], nextCursor: null }),
      'GET /api/notifications': () => json(200, { notifications: [], nextCursor: null, unread }),
    });
    await waitFor(() => expect(FakeSocket.instances).toHaveLength(1));
    expect(FakeSocket.latest().url).toMatch(/^ws:\/\/.*\/api\/notifications\/stream$/);
    act(() => FakeSocket.latest().open());
    expect(await screen.findByRole('link', { name: 'Notifications, 2 unread' })).toBeInTheDocument();

    act(() =>
      FakeSocket.latest().receive({
        id: 'n9',
        type: 'friend.requested',
        actor: { id: 'u-cy', name: 'Cy' },
        text: 'Cy sent you a friend request',
        read: false,
        createdAt: new Date().toISOString(),
      }),
    );
    expect(screen.getByRole('link', { name: 'Notifications, 3 unread' })).toBeInTheDocument();
    expect(screen.getByText('New notification: Cy sent you a friend request')).toBeInTheDocument();

    act(() => FakeSocket.latest().drop());
    expect(await screen.findByText(/reconnecting/i)).toBeInTheDocument();
    unread = 0; // read elsewhere while we were away
    act(() => window.dispatchEvent(new Event('online')));
    expect(FakeSocket.instances).toHaveLength(2);
    act(() => FakeSocket.latest().open());
    await waitFor(() => expect(screen.getByRole('link', { name: 'Notifications, none unread' })).toBeInTheDocument());
    expect(screen.queryByText(/reconnecting/i)).not.toBeInTheDocument();
  });
});

describe('a link to one post', () => {
  it('"Bob posted" opens the post and marks the notification read', async () => {
    const { api } = renderApp('/notifications', {
      'GET /api/notifications': () =>
        json(200, {
          notifications: [
            { id: 'n1', type: 'post.created', actor: { id: 'u-bob', name: 'Bob' }, postId: 'p7', text: 'Bob posted', read: false, createdAt: new Date().toISOString() },
          ],
          nextCursor: null,
          unread: 1,
        }),
      'POST /api/notifications/read': () => json(204, undefined),
      'GET /api/posts/p7': () => json(200, post('p7', { id: 'u-bob', name: 'Bob' }, 'The harbour at dusk')),
    });
    await userEvent.click(await screen.findByRole('link', { name: /Bob posted/ }));
    expect(await screen.findByRole('heading', { level: 1, name: 'Post by Bob' })).toBeInTheDocument();
    expect(screen.getByText('The harbour at dusk')).toBeInTheDocument();
    expect(screen.getByRole('link', { name: 'All posts by Bob' })).toHaveAttribute('href', '/users/u-bob');
    await waitFor(() => expect(api.calls.find((c) => c.url === '/api/notifications/read')?.body).toEqual({ ids: ['n1'] }));
  });

  it('says a post is not available instead of an error box', async () => {
    renderApp('/posts/p8', {
      'GET /api/posts/p8': () => json(404, { title: 'Not Found', status: 404, detail: "No such post among your friends'." }),
    });
    expect(await screen.findByRole('heading', { level: 1, name: 'Post not available' })).toBeInTheDocument();
    expect(screen.getByText("This post isn't available")).toBeInTheDocument();
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
  });
});

describe('changes made elsewhere', () => {
  it('reads the bell again when another tab marks everything read', async () => {
    let unread = 3;
    renderApp('/', {
      'GET /api/posts': () => json(200, { posts: [], nextCursor: null }),
      'GET /api/notifications': () => json(200, { notifications: [], nextCursor: null, unread }),
    });
    await socketOpened();
    act(() => FakeSocket.latest().open());
    expect(await screen.findByRole('link', { name: 'Notifications, 3 unread' })).toBeInTheDocument();
    unread = 0; // "Mark all as read" in another tab
    act(() => FakeSocket.latest().receive({ changed: 'read' }));
    await waitFor(() => expect(screen.getByRole('link', { name: 'Notifications, none unread' })).toBeInTheDocument());
  });

  it('drops a cancelled request from the open list', async () => {
    let notifications = [
      {
        id: 'n1',
        type: 'friend.requested',
        actor: { id: 'u-cy', name: 'Cy' },
        text: 'Cy sent you a friend request',
        read: false,
        createdAt: new Date().toISOString(),
      },
    ];
    renderApp('/notifications', {
      'GET /api/notifications': () => json(200, { notifications, nextCursor: null, unread: notifications.length }),
    });
    expect(await screen.findByText('Cy sent you a friend request')).toBeInTheDocument();
    await socketOpened();
    act(() => FakeSocket.latest().open());
    notifications = []; // Cy cancelled
    act(() => FakeSocket.latest().receive({ changed: 'removed' }));
    await waitFor(() => expect(screen.queryByText('Cy sent you a friend request')).not.toBeInTheDocument());
  });
});

describe('the feed', () => {
  it('shows a friend’s new post without a reload when its notification arrives', async () => {
    let posts = [post('p1')];
    const { api } = renderApp('/', {
      'GET /api/posts': () => json(200, { posts, nextCursor: null }),
    });
    expect(await screen.findByText('post p1')).toBeInTheDocument();
    await socketOpened();
    act(() => FakeSocket.latest().open());
    posts = [post('p2', { id: 'u-bob', name: 'Bob' }, 'Bob has news'), ...posts];
    act(() =>
      FakeSocket.latest().receive({
        id: 'n1',
        type: 'post.created',
        actor: { id: 'u-bob', name: 'Bob' },
        postId: 'p2',
        text: 'Bob posted',
        read: false,
        createdAt: new Date().toISOString(),
      }),
    );
    expect(await screen.findByText('Bob has news')).toBeInTheDocument();
    const list = screen.getByRole('region', { name: 'Posts' });
    const texts = within(list)
      .getAllByRole('article')
      .map((a) => a.querySelector('.post__text')?.textContent);
    expect(texts).toEqual(['Bob has news', 'post p1']);
    expect(api.calls.filter((c) => c.url.startsWith('/api/posts')).length).toBe(2);
  });

  it('pages on the cursor with "Load more posts" and says when it is done', async () => {
    renderApp('/', {
      'GET /api/posts': ({ url }) =>
        url.includes('cursor=next1')
          ? json(200, { posts: [post('p1')], nextCursor: null })
          : json(200, { posts: [post('p3'), post('p2')], nextCursor: 'next1' }),
    });
    expect(await screen.findByText('post p3')).toBeInTheDocument();
    await userEvent.click(screen.getByRole('button', { name: 'Load more posts' }));
    expect(await screen.findByText('post p1')).toBeInTheDocument();
    expect(screen.getByText("You're all caught up.")).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Load more posts' })).not.toBeInTheDocument();
  });

  it('has empty and error states', async () => {
    let fail = true;
    renderApp('/', {
      'GET /api/posts': () => (fail ? json(503, { title: 'Service Unavailable', status: 503 }) : json(200, { posts: [], nextCursor: null })),
    });
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent("Couldn't load your feed");
    expect(alert).toHaveTextContent('Tidings is having trouble right now');
    fail = false;
    await userEvent.click(within(alert).getByRole('button', { name: 'Try again' }));
    expect(await screen.findByText('Nothing here yet')).toBeInTheDocument();
  });

  it('posts text and puts the new post on top', async () => {
    const { api } = renderApp('/', {
      'GET /api/posts': () => json(200, { posts: [post('p1')], nextCursor: null }),
      'POST /api/posts': ({ body }) => json(201, post('p-new', { id: me.id, name: me.name }, (body as { text: string }).text)),
    });
    await screen.findByText('post p1');
    const user = userEvent.setup();
    await user.type(screen.getByLabelText("What's new?"), '  Hello friends  ');
    await user.click(screen.getByRole('button', { name: 'Post' }));
    expect(await screen.findByText('Hello friends')).toBeInTheDocument();
    const sent = api.calls.find((c) => c.method === 'POST' && c.url === '/api/posts');
    expect(sent?.body).toEqual({ text: 'Hello friends' });
    expect(sent?.headers['X-Requested-With']).toBe('tidings');
    expect(screen.getByLabelText("What's new?")).toHaveValue('');
  });
});

describe('navigation', () => {
  it('keeps the feed\'s loaded pages when going back to it', async () => {
    const { api, navigate } = renderApp('/', {
      'GET /api/posts': ({ url }) =>
        url.includes('cursor=next1')
          ? json(200, { posts: [post('p1')], nextCursor: null })
          : json(200, { posts: [post('p3'), post('p2')], nextCursor: 'next1' }),
      'GET /api/users/u-bob/posts': () => json(200, { user: { id: 'u-bob', name: 'Bob' }, posts: [], nextCursor: null }),
    });
    await screen.findByText('post p3');
    await userEvent.click(screen.getByRole('button', { name: 'Load more posts' }));
    await screen.findByText('post p1');
    navigate('/users/u-bob');
    await screen.findByRole('heading', { level: 1, name: 'Bob' });
    navigate('/');
    // Both pages are there at once, from the cache, before any answer.
    expect(screen.getByText('post p1')).toBeInTheDocument();
    expect(screen.getByText('post p3')).toBeInTheDocument();
    await waitFor(() => expect(api.calls.filter((c) => c.url.startsWith('/api/posts')).length).toBeGreaterThan(2));
    expect(screen.getByText('post p1')).toBeInTheDocument();
  });

  it('puts the feed back where it was on Back, also when the feed was the first page loaded', async () => {
    let y = 0;
    const scrollTo = vi.fn((_x: number, to: number) => {
      y = to;
    });
    vi.stubGlobal('scrollTo', scrollTo);
    const scrollY = vi.spyOn(window, 'scrollY', 'get').mockImplementation(() => y);
    try {
      const { navigate } = renderApp('/', {
        'GET /api/posts': () => json(200, { posts: [post('p3'), post('p2')], nextCursor: null }),
        'GET /api/users/u-bob/posts': () => json(200, { user: { id: 'u-bob', name: 'Bob' }, posts: [], nextCursor: null }),
      });
      await screen.findByText('post p3');
      expect(scrollTo).not.toHaveBeenCalled(); // the first load is left to the browser
      y = 1500;
      act(() => void window.dispatchEvent(new Event('scroll')));
      navigate('/users/u-bob');
      await screen.findByRole('heading', { level: 1, name: 'Bob' });
      expect(y).toBe(0);
      navigate(-1);
      await screen.findByText('post p3');
      await waitFor(() => expect(y).toBe(1500));
    } finally {
      scrollY.mockRestore();
    }
  });

  it('shows the unread count in the tab title', async () => {
    renderApp('/', {
      'GET /api/posts': () => json(200, { posts: [], nextCursor: null }),
      'GET /api/notifications': () => json(200, { notifications: [], nextCursor: null, unread: 3 }),
    });
    await screen.findByRole('heading', { level: 1, name: 'Your feed' });
    await socketOpened();
    act(() => FakeSocket.latest().open());
    await waitFor(() => expect(document.title).toBe('(3) Your feed · Tidings'));
  });

  it('moves focus to the new page heading on route change', async () => {
    renderApp('/', {
      'GET /api/posts': () => json(200, { posts: [], nextCursor: null }),
      'GET /api/friends/requests': () => json(200, { incoming: [], outgoing: [] }),
      'GET /api/friends': () => json(200, { friends: [] }),
    });
    await screen.findByRole('heading', { level: 1, name: 'Your feed' });
    await userEvent.click(screen.getByRole('link', { name: 'Friends' }));
    const h1 = await screen.findByRole('heading', { level: 1, name: 'Friends' });
    await waitFor(() => expect(h1).toHaveFocus());
    expect(document.title).toBe('Friends · Tidings');
  });
});

describe('notifications page', () => {
  it('marks a notification read when it is opened', async () => {
    const { api } = renderApp('/notifications', {
      'GET /api/notifications': () =>
        json(200, {
          notifications: [
            { id: 'n1', type: 'friend.requested', actor: { id: 'u-bob', name: 'Bob' }, text: 'Bob wants to be friends', read: false, createdAt: new Date().toISOString() },
          ],
          nextCursor: null,
          unread: 1,
        }),
      'POST /api/notifications/read': () => json(204, undefined),
      'GET /api/friends/requests': () => json(200, { incoming: [], outgoing: [] }),
      'GET /api/friends': () => json(200, { friends: [] }),
    });
    await userEvent.click(await screen.findByRole('link', { name: /Bob wants to be friends/ }));
    await screen.findByRole('heading', { level: 1, name: 'Friends' });
    await waitFor(() => expect(api.calls.find((c) => c.url === '/api/notifications/read')?.body).toEqual({ ids: ['n1'] }));
  });

  it('lists notifications, adds live ones, and marks them read', async () => {
    const n = (id: string, read: boolean, text: string) => ({
      id,
      type: 'post.created',
      actor: { id: 'u-bob', name: 'Bob' },
      text,
      read,
      createdAt: new Date().toISOString(),
    });
    let unread = 1;
    const { api } = renderApp('/notifications', {
      'GET /api/notifications': () => json(200, { notifications: [n('n1', false, 'Bob posted')], nextCursor: null, unread }),
      'POST /api/notifications/read': () => {
        unread = 0;
        return json(204, undefined);
      },
    });
    const list = await screen.findByRole('list', { name: 'Notifications' });
    expect(within(list).getAllByRole('listitem')).toHaveLength(1);
    await socketOpened();
    act(() => FakeSocket.latest().open());
    act(() => FakeSocket.latest().receive(n('n2', false, 'Bob posted')));
    // Bob's two posts are one row.
    expect(within(list).getAllByRole('listitem')).toHaveLength(1);
    expect(within(list).getByRole('link', { name: 'Unread: Bob posted 2 times' })).toBeInTheDocument();
    await userEvent.click(screen.getByRole('button', { name: 'Mark all as read' }));
    await waitFor(() => expect(screen.queryByRole('button', { name: /^Mark as read/ })).not.toBeInTheDocument());
    expect(api.calls.find((c) => c.url === '/api/notifications/read')?.body).toEqual({ all: true });
    expect(screen.getByRole('link', { name: 'Notifications, none unread' })).toBeInTheDocument();
  });
});
