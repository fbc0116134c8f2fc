import { useCallback, useEffect } from 'react';
import { Link } from 'react-router';
import { api } from '../api/tidings';
import type { Post } from '../api/types';
import { useMe } from '../auth/AuthContext';
import { Composer } from '../components/Composer';
import { PageHeading } from '../components/PageHeading';
import { PostList } from '../components/PostList';
import { EmptyState } from '../components/States';
import { useLive } from '../notifications/LiveContext';
import { usePaged } from '../paging/usePaged';

export function FeedPage({ loadFeed = api.feed }: { loadFeed?: typeof api.feed }) {
  const me = useMe();
  const load = useCallback((cursor: string | null) => loadFeed(cursor), [loadFeed]);
  const feed = usePaged<Post>(`feed:${me.id}`, load);
  const { subscribe, onResync } = useLive();
  const { refreshFirst, update } = feed;

  // A friend's new post shows up without a reload: its notification makes us read the first page again.
  useEffect(
    () =>
      subscribe((n) => {
        if (n.type === 'post.created') refreshFirst();
      }),
    [subscribe, refreshFirst],
  );
  useEffect(() => onResync(refreshFirst), [onResync, refreshFirst]);

  const onPosted = useCallback(
    (post: Post) => update((items) => [post, ...items.filter((p) => p.id !== post.id)]),
    [update],
  );

  return (
    <>
      <PageHeading title="Your feed" />
      <Composer onPosted={onPosted} />
      <PostList
        paged={feed}
        meId={me.id}
        label="Posts"
        errorTitle="Couldn't load your feed"
        empty={
          <EmptyState title="Nothing here yet">
            <p>
              Write your first post above, or <Link to="/friends">find some friends</Link> to see their news.
            </p>
          </EmptyState>
        }
      />
    </>
  );
}
