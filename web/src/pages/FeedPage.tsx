import { useCallback, useEffect, useMemo, useRef } from 'react';
import { Link } from 'react-router';
import { api } from '../api/tidings';
import type { Post } from '../api/types';
import { useMe } from '../auth/AuthContext';
import { Composer } from '../components/Composer';
import { NewPostsPill, useNewPosts } from '../components/NewPosts';
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
  const list = useRef<HTMLElement>(null);

  // A friend's new post waits behind the pill; showing it reads the first page
  // again and goes to the top, where it now is.
  const shownIds = useMemo(() => feed.items.map((p) => p.id), [feed.items]);
  const { waiting, clear } = useNewPosts(shownIds, subscribe);
  const showNewPosts = useCallback(async () => {
    await refreshFirst();
    clear();
    list.current?.focus({ preventScroll: true });
    window.scrollTo(0, 0);
  }, [refreshFirst, clear]);
  useEffect(() => onResync(() => void refreshFirst()), [onResync, refreshFirst]);

  const onPosted = useCallback(
    (post: Post) => update((items) => [post, ...items.filter((p) => p.id !== post.id)]),
    [update],
  );

  return (
    <>
      <PageHeading title="Your feed" />
      <Composer onPosted={onPosted} />
      <NewPostsPill waiting={waiting} onShow={() => void showNewPosts()} />
      <PostList
        paged={feed}
        listRef={list}
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
