import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useCallback, useState } from 'react';
import { Link, useParams } from 'react-router';
import { ApiError, describeError } from '../api/client';
import { api } from '../api/tidings';
import type { PersonCard, Post } from '../api/types';
import { useMe } from '../auth/AuthContext';
import { Avatar } from '../components/Avatar';
import { PageHeading } from '../components/PageHeading';
import { PostList } from '../components/PostList';
import { EmptyState } from '../components/States';
import { usePaged } from '../paging/usePaged';
import { cardDetails } from '../people/card';

/** `/profile` (you) and `/users/:id` (a friend, or yourself by id). */
export function ProfilePage() {
  const me = useMe();
  const params = useParams();
  const userId = params.id ?? me.id;
  const load = useCallback((cursor: string | null) => api.userPosts(userId, cursor), [userId]);
  const posts = usePaged<Post, Awaited<ReturnType<typeof api.userPosts>>>(`user:${userId}`, load);
  // Who the posts belong to, as the posts route names them: cached with the
  // posts under this person's id, so the page never names the wrong person,
  // and forgotten once they refuse.
  const user = posts.status === 'error' ? null : (posts.firstPage?.user ?? null);

  const isMe = userId === me.id || user?.id === me.id;
  // Only you and your friends are answered with a name, so anyone else named is a friend.
  const isFriend = !isMe && user !== null;
  const name = user?.name ?? (isMe ? me.name : null);
  const refused =
    posts.status === 'error' && posts.error instanceof ApiError && (posts.error.status === 403 || posts.error.status === 404);
  // A stranger's posts are refused, but who they are is not: their card
  // (what search shows) and a way to ask them.
  const card = useQuery({
    queryKey: ['person', userId],
    queryFn: ({ signal }) => api.person(userId, signal),
    enabled: refused && !isMe,
  });
  if (refused && card.data) return <StrangerProfile card={card.data} />;

  return (
    <>
      <div className="profile-head">
        <Avatar id={user?.id ?? userId} name={name ?? '?'} size={64} />
        <div>
          <PageHeading title={isMe ? 'Your profile' : (name ?? 'Profile')}>{name ?? 'Profile'}</PageHeading>
          {isMe && <p className="muted">{me.email}</p>}
          {isFriend && <p className="muted">Your friend</p>}
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

/** Someone who is not your friend: name, avatar, how you stand, and a way to ask. Never their posts. */
function StrangerProfile({ card }: { card: PersonCard }) {
  const client = useQueryClient();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  async function ask() {
    setBusy(true);
    setError(undefined);
    try {
      await api.sendFriendRequest(card.id);
      await client.invalidateQueries({ queryKey: ['person', card.id] });
    } catch (e) {
      setError(describeError(e));
    } finally {
      setBusy(false);
    }
  }
  return (
    <>
      <div className="profile-head">
        <Avatar id={card.id} name={card.name} size={64} />
        <div>
          <PageHeading title={card.name} />
          <p className="muted">{cardDetails(card)}</p>
        </div>
      </div>
      <div className="profile-actions">
        {card.relation === 'none' && (
          <button type="button" className="button" onClick={ask} disabled={busy}>
            {busy ? 'Sending…' : 'Add friend'}
          </button>
        )}
        {card.relation === 'outgoing' && <p className="notice">Friend request sent. You'll see {card.name}'s posts once they accept.</p>}
        {card.relation === 'incoming' && (
          <p className="notice">
            {card.name} wants to be your friend. <Link to="/friends">Answer on your Friends page</Link>
          </p>
        )}
        {error && (
          <p className="form-error" role="alert">
            {error}
          </p>
        )}
      </div>
      <EmptyState title="Posts are for friends">
        <p>Only friends see each other's posts.</p>
      </EmptyState>
    </>
  );
}
