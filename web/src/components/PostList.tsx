import type { ReactNode, Ref } from 'react';
import type { Post } from '../api/types';
import type { Paged } from '../paging/usePaged';
import { describeError } from '../api/client';
import { useLoadWhenNear } from '../paging/useLoadWhenNear';
import { PostCard } from './PostCard';
import { EmptyState, ErrorState, Loading } from './States';

export function PostList({
  paged,
  meId,
  label,
  empty,
  errorTitle,
  errorExtra,
  canRetry = true,
  listRef,
}: {
  paged: Paged<Post>;
  meId: string;
  label: string;
  empty: ReactNode;
  errorTitle?: string;
  errorExtra?: ReactNode;
  /** False when trying again cannot help (a refusal). */
  canRetry?: boolean;
  /** Takes the focus when the list changed under the reader (new posts shown). */
  listRef?: Ref<HTMLElement>;
}) {
  if (paged.status === 'loading') return <Loading label="Loading posts…" />;
  if (paged.status === 'error')
    return (
      <ErrorState error={paged.error} title={errorTitle ?? "Couldn't load posts"} onRetry={canRetry ? paged.reload : undefined}>
        {errorExtra}
      </ErrorState>
    );
  if (paged.items.length === 0) return <>{empty}</>;
  return (
    <section aria-label={label} ref={listRef} tabIndex={-1} className="post-list-section">
      <ul className="post-list">
        {paged.items.map((p) => (
          <li key={p.id}>
            <PostCard post={p} meId={meId} />
          </li>
        ))}
      </ul>
      <LoadMore paged={paged} what="posts" loadWhenNear />
    </section>
  );
}

/**
 * The end of a list: a "Load more" button, which keyboard and screen-reader
 * users can always use; with `loadWhenNear` the next page also loads by
 * itself as the end scrolls near (infinite scroll), but never after a failure.
 */
export function LoadMore<T>({ paged, what, loadWhenNear = false }: { paged: Paged<T & { id: string }>; what: string; loadWhenNear?: boolean }) {
  const sentinel = useLoadWhenNear<HTMLDivElement>(
    loadWhenNear && paged.hasMore && !paged.loadingMore && !paged.moreError,
    paged.loadMore,
  );
  return (
    <>
      <div ref={sentinel} className="load-more__sentinel" aria-hidden="true" />
      <LoadMoreEnd paged={paged} what={what} />
    </>
  );
}

function LoadMoreEnd<T>({ paged, what }: { paged: Paged<T & { id: string }>; what: string }) {
  if (paged.moreError) {
    return (
      <div className="load-more" role="alert">
        <p>{describeError(paged.moreError)}</p>
        <button type="button" className="button button--secondary" onClick={paged.loadMore}>
          Try again
        </button>
      </div>
    );
  }
  if (!paged.hasMore) {
    return <p className="load-more load-more--end">You're all caught up.</p>;
  }
  return (
    <div className="load-more">
      <button type="button" className="button button--secondary" onClick={paged.loadMore} disabled={paged.loadingMore}>
        {paged.loadingMore ? `Loading more ${what}…` : `Load more ${what}`}
      </button>
    </div>
  );
}

export { EmptyState };
