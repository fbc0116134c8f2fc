import { act, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { json } from '../testing/fakeFetch';
import { me, post, renderApp, stubWebSocketPerTest } from '../testing/renderApp';

stubWebSocketPerTest();

/** The big avatar at the top of the profile (aria-hidden, so found by class). */
function profileInitials(container: HTMLElement): string | null | undefined {
  return container.querySelector('.profile-head .avatar')?.textContent;
}

describe('profiles', () => {
  it.each([403, 404])('tells a stranger they cannot see the posts (%i), naming no one', async (status) => {
    const { container } = renderApp('/users/u-zed', {
      'GET /api/users/u-zed/posts': () => json(status, { title: 'Not Found', status, detail: 'No such person among your friends.' }),
    });
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent("You can't see these posts");
    expect(within(alert).getByRole('link', { name: 'Find friends' })).toHaveAttribute('href', '/friends');
    expect(within(alert).queryByRole('button', { name: 'Try again' })).not.toBeInTheDocument();
    expect(screen.getByRole('heading', { level: 1 })).toHaveTextContent('Profile');
    expect(profileInitials(container)).toBe('?');
    expect(screen.queryByText('Your friend')).not.toBeInTheDocument();
  });

  it("shows a stranger's name, avatar and an Add friend button, and none of their posts", async () => {
    let relation = 'none';
    const { container, api } = renderApp('/users/u-zed', {
      'GET /api/users/u-zed/posts': () => json(404, { title: 'Not Found', status: 404, detail: 'No such person among your friends.' }),
      'GET /api/users/u-zed': () => json(200, { id: 'u-zed', name: 'Zed Zane', relation, mutualFriends: 1, joined: '2026-02' }),
      'POST /api/friends/requests': () => {
        relation = 'outgoing';
        return json(201, { id: 'r-1', from: me, to: { id: 'u-zed', name: 'Zed Zane' }, status: 'pending' });
      },
    });
    expect(await screen.findByRole('heading', { level: 1, name: 'Zed Zane' })).toBeInTheDocument();
    expect(profileInitials(container)).toBe('ZZ');
    expect(screen.getByText('1 friend in common · Joined February 2026')).toBeInTheDocument();
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
    expect(screen.queryByRole('article')).not.toBeInTheDocument();
    await userEvent.click(screen.getByRole('button', { name: 'Add friend' }));
    expect(await screen.findByText(/Friend request sent/)).toBeInTheDocument();
    expect(api.calls.find((c) => c.method === 'POST')?.body).toEqual({ userId: 'u-zed' });
  });

  it('names a friend from the posts answer: heading, initials, title', async () => {
    const bob = { id: 'u-bob', name: 'Bob Stone' };
    const { container, api } = renderApp('/users/u-bob', {
      'GET /api/users/u-bob/posts': () => json(200, { user: bob, posts: [post('b1', bob)], nextCursor: null }),
    });
    expect(await screen.findByRole('heading', { level: 1, name: 'Bob Stone' })).toBeInTheDocument();
    expect(profileInitials(container)).toBe('BS');
    expect(document.title).toBe('Bob Stone · Tidings');
    expect(screen.getByText('Your friend')).toBeInTheDocument();
    expect(screen.getByRole('region', { name: 'Posts by Bob Stone' })).toHaveTextContent('post b1');
    // The name needs no second request.
    expect(api.calls.map((c) => `${c.method} ${c.url}`)).not.toContain('GET /api/friends');
  });

  it('names a friend who has not posted yet', async () => {
    renderApp('/users/u-cy', {
      'GET /api/users/u-cy/posts': () => json(200, { user: { id: 'u-cy', name: 'Cy' }, posts: [], nextCursor: null }),
    });
    expect(await screen.findByRole('heading', { level: 1, name: 'Cy' })).toBeInTheDocument();
    expect(screen.getByText("Cy hasn't posted anything yet.")).toBeInTheDocument();
  });

  it('/profile reads your own posts and shows the name they answer with', async () => {
    // The session still says "Ann"; the posts route knows the current name.
    const annNow = { id: me.id, name: 'Ann Lee' };
    const { container } = renderApp('/profile', {
      'GET /api/users/u-ann/posts': () => json(200, { user: annNow, posts: [post('a1', annNow)], nextCursor: null }),
    });
    expect(await screen.findByRole('heading', { level: 1, name: 'Ann Lee' })).toBeInTheDocument();
    expect(profileInitials(container)).toBe('AL');
    expect(document.title).toBe('Your profile · Tidings');
    expect(screen.getByText(me.email)).toBeInTheDocument();
    expect(screen.queryByText('Your friend')).not.toBeInTheDocument();
    expect(await screen.findByText('post a1')).toBeInTheDocument();
  });

  it('never names the new person after a late answer about the previous one', async () => {
    let answerBob: () => void = () => {};
    const bob = { id: 'u-bob', name: 'Bob' };
    const { container, navigate } = renderApp('/users/u-bob', {
      'GET /api/users/u-bob/posts': () =>
        new Promise<Response>((resolve) => {
          answerBob = () => resolve(json(200, { user: bob, posts: [post('b1', bob)], nextCursor: null }));
        }),
      'GET /api/users/u-cy/posts': () => json(200, { user: { id: 'u-cy', name: 'Cy' }, posts: [], nextCursor: null }),
    });
    expect(await screen.findByText('Loading posts…')).toBeInTheDocument();
    navigate('/users/u-cy');
    expect(await screen.findByRole('heading', { level: 1, name: 'Cy' })).toBeInTheDocument();

    await act(async () => {
      answerBob();
      // Let the late answer run through fetch, the API client and the page.
      for (let i = 0; i < 10; i++) await new Promise((r) => setTimeout(r, 0));
    });
    expect(screen.getByRole('heading', { level: 1 })).toHaveTextContent('Cy');
    expect(profileInitials(container)).toBe('C');
    expect(screen.queryByText('post b1')).not.toBeInTheDocument();
  });

  it('forgets a name once that person refuses, after visiting someone else', async () => {
    let bobIsFriend = true;
    const refused = () => json(404, { title: 'Not Found', status: 404, detail: 'No such person among your friends.' });
    const { navigate } = renderApp('/users/u-bob', {
      'GET /api/users/u-bob/posts': () =>
        bobIsFriend ? json(200, { user: { id: 'u-bob', name: 'Bob' }, posts: [], nextCursor: null }) : refused(),
      'GET /api/users/u-zed/posts': refused,
    });
    expect(await screen.findByRole('heading', { level: 1, name: 'Bob' })).toBeInTheDocument();
    navigate('/users/u-zed');
    expect(await screen.findByRole('alert')).toHaveTextContent("You can't see these posts");
    bobIsFriend = false; // Bob unfriends Ann meanwhile
    navigate('/users/u-bob');
    expect(await screen.findByRole('alert')).toHaveTextContent("You can't see these posts");
    expect(screen.getByRole('heading', { level: 1 })).toHaveTextContent('Profile');
    expect(screen.queryByText('Your friend')).not.toBeInTheDocument();
  });
});
