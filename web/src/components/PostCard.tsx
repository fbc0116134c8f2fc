import { Link } from 'react-router';
import type { Post } from '../api/types';
import { Avatar } from './Avatar';
import { formatFull, formatWhen } from './time';

export function profilePath(userId: string, meId: string): string {
  return userId === meId ? '/profile' : `/users/${encodeURIComponent(userId)}`;
}

export function PostCard({ post, meId }: { post: Post; meId: string }) {
  return (
    <article className="card post" aria-labelledby={`post-${post.id}-author`}>
      <header className="post__header">
        <Avatar id={post.author.id} name={post.author.name} />
        <div>
          <Link id={`post-${post.id}-author`} className="post__author" to={profilePath(post.author.id, meId)}>
            {post.author.name}
          </Link>
          <time className="post__time" dateTime={post.createdAt} title={formatFull(post.createdAt)}>
            {formatWhen(post.createdAt)}
          </time>
        </div>
      </header>
      {post.text && <p className="post__text">{post.text}</p>}
      {post.image?.src && (
        <img className="post__image" src={post.image.src} alt={`Posted by ${post.author.name}`} loading="lazy" />
      )}
    </article>
  );
}
