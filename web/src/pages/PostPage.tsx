import { useQuery } from '@tanstack/react-query';
import { Link, useParams } from 'react-router';
import { ApiError } from '../api/client';
import { api } from '../api/tidings';
import { useMe } from '../auth/AuthContext';
import { PageHeading } from '../components/PageHeading';
import { PostCard, profilePath } from '../components/PostCard';
import { EmptyState, ErrorState, Loading } from '../components/States';

/** `/posts/:id`: one post, where "Ann posted" leads. Only its author and their friends see it. */
export function PostPage() {
  const me = useMe();
  const id = useParams().id ?? '';
  const post = useQuery({ queryKey: ['post', id], queryFn: ({ signal }) => api.post(id, signal) });
  const gone = post.error instanceof ApiError && post.error.status === 404;

  if (post.isPending) return <Loading label="Loading the post…" />;
  if (gone)
    return (
      <>
        <PageHeading title="Post not available" />
        <EmptyState title="This post isn't available">
          <p>
            It may have been removed, or only its author's friends can see it. <Link to="/">Back to your feed</Link>
          </p>
        </EmptyState>
      </>
    );
  if (post.isError)
    return (
      <>
        <PageHeading title="Post" />
        <ErrorState error={post.error} title="Couldn't load the post" onRetry={() => void post.refetch()} />
      </>
    );
  const p = post.data;
  return (
    <>
      <PageHeading title={`Post by ${p.author.name}`} />
      <PostCard post={p} meId={me.id} />
      <p>
        <Link to={profilePath(p.author.id, me.id)}>{p.author.id === me.id ? 'All your posts' : `All posts by ${p.author.name}`}</Link>
      </p>
    </>
  );
}
