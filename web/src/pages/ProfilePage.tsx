import { useCallback, useEffect, useState } from 'react';
import { Link, useParams } from 'react-router';
import { ApiError } from '../api/client';
import { api } from '../api/tidings';
import type { Post } from '../api/types';
import { useMe } from '../auth/AuthContext';
import { Avatar } from '../components/Avatar';
import { PageHeading } from '../components/PageHeading';
import { PostList } from '../components/PostList';
import { EmptyState } from '../components/States';
import { usePaged } from '../paging/usePaged';

/** `/profile` (you) and `/users/:id` (a friend, or yourself by id). */
export function ProfilePage() {
  const me = useMe();
  const params = useParams();
  const userId = params.id ?? me.id;
  const isMe = userId === me.id;
  const load = useCallback((cursor: string | null) => api.userPosts(userId, cursor), [userId]);
  const posts = usePaged<Post>(`user:${userId}`, load);
  const [friendName, setFriendName] = useState<string | null>(null);

  // The API has no "get user" route: a friend's name comes from the friends list
  // (or from any of their posts, below).
  useEffect(() => {
    setFriendName(null);
    if (isMe) return;
    let live = true;
    api.friends().then(
      (friends) => {
        const f = friends.find((x) => x.id === userId);
        if (live && f) setFriendName(f.name);
      },
      () => {},
    );
    return () => {
      live = false;
    };
  }, [userId, isMe]);

  const name = isMe ? me.name : (friendName ?? posts.items.find((p) => p.author.id === userId)?.author.name ?? null);
  const refused =
    posts.status === 'error' && posts.error instanceof ApiError && (posts.error.status === 403 || posts.error.status === 404);

  return (
    <>
      <div className="profile-head">
        <Avatar id={userId} name={name ?? '?'} size={64} />
        <div>
          <PageHeading title={isMe ? 'Your profile' : (name ?? 'Profile')}>{isMe ? me.name : (name ?? 'Profile')}</PageHeading>
          {isMe && <p className="muted">{me.email}</p>}
          {!isMe && friendName && <p className="muted">Your friend</p>}
        </div>
      </div>
      <h2 className="section-title">{isMe ? 'Your posts' : 'Posts'}</h2>
      <PostList
        paged={posts}
        meId={me.id}
        label={isMe ? 'Your posts' : `Posts by ${name ?? 'this person'}`}
        errorTitle={refused ? "You can't see these posts" : "Couldn't load posts"}
        canRetry={!refused}
        errorExtra={
          refused ? (
            <p>
              Only friends can see each other's posts. <Link to="/friends">Find friends</Link>
            </p>
          ) : undefined
        }
        empty={
          <EmptyState title="No posts yet">
            {isMe ? (
              <p>
                <Link to="/">Write your first post</Link> from your feed.
              </p>
            ) : (
              <p>{name ?? 'They'} hasn't posted anything yet.</p>
            )}
          </EmptyState>
        }
      />
    </>
  );
}
