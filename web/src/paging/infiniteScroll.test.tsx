import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { json } from '../testing/fakeFetch';
import { FakeIntersectionObserver, stubIntersectionObserverPerTest } from '../testing/fakeIntersectionObserver';
import { post, renderApp, stubWebSocketPerTest } from '../testing/renderApp';

stubWebSocketPerTest();
stubIntersectionObserverPerTest();

// Two pages on a cursor, the second one failing first when `failOnce` says so.
function twoPages(path: string, extra: Record<string, unknown> = {}, failOnce = false) {
  let failed = false;
  return {
    [`GET ${path}`]: ({ url }: { url: string }) => {
      if (!url.includes('cursor=next1')) return json(200, { ...extra, posts: [post('p3'), post('p2')], nextCursor: 'next1' });
      if (failOnce && !failed) {
        failed = true;
        return json(503, { title: 'Service Unavailable', status: 503 });
      }
      return json(200, { ...extra, posts: [post('p1')], nextCursor: null });
    },
  };
}

const postCalls = (calls: { url: string }[], path: string) => calls.filter((c) => c.url.startsWith(path)).length;

describe('infinite scroll', () => {
  it('loads the feed\'s next page when its end comes near, with "Load more posts" still there', async () => {
    const { api } = renderApp('/', twoPages('/api/posts'));
    await screen.findByText('post p3');
    // The button stays for keyboard and screen-reader users.
    expect(screen.getByRole('button', { name: 'Load more posts' })).toBeInTheDocument();
    await waitFor(() => expect(FakeIntersectionObserver.watching()).toBe(1));
    FakeIntersectionObserver.scrollNear(false); // still far away: nothing happens
    expect(postCalls(api.calls, '/api/posts')).toBe(1);

    FakeIntersectionObserver.scrollNear();
    expect(await screen.findByText('post p1')).toBeInTheDocument();
    expect(screen.getByText("You're all caught up.")).toBeInTheDocument();
    expect(postCalls(api.calls, '/api/posts')).toBe(2);
    // At the end nothing is watched any more.
    expect(FakeIntersectionObserver.watching()).toBe(0);
  });

  it('stops after a failed page until the person tries again', async () => {
    const { api } = renderApp('/', twoPages('/api/posts', {}, true));
    await screen.findByText('post p3');
    await waitFor(() => expect(FakeIntersectionObserver.watching()).toBe(1));
    FakeIntersectionObserver.scrollNear();
    const tryAgain = await screen.findByRole('button', { name: 'Try again' });
    expect(FakeIntersectionObserver.watching()).toBe(0);
    FakeIntersectionObserver.scrollNear();
    expect(postCalls(api.calls, '/api/posts')).toBe(2);
    await userEvent.click(tryAgain);
    expect(await screen.findByText('post p1')).toBeInTheDocument();
  });

  it("loads a profile's next page too", async () => {
    const { api } = renderApp(
      '/users/u-bob',
      twoPages('/api/users/u-bob/posts', { user: { id: 'u-bob', name: 'Bob' } }),
    );
    await screen.findByText('post p3');
    await waitFor(() => expect(FakeIntersectionObserver.watching()).toBe(1));
    FakeIntersectionObserver.scrollNear();
    expect(await screen.findByText('post p1')).toBeInTheDocument();
    expect(postCalls(api.calls, '/api/users/u-bob/posts')).toBe(2);
  });
});
