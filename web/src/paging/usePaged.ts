import { useInfiniteQuery, useQueryClient, type InfiniteData } from '@tanstack/react-query';
import { useCallback, useMemo } from 'react';
import { ApiError } from '../api/client';
import type { Page } from '../api/tidings';
import { flattenPages, repage, type Identified } from './merge';

export type LoadPage<T> = (cursor: string | null) => Promise<Page<T>>;

export interface Paged<T, P extends Page<T> = Page<T>> {
  items: T[];
  /** The first page as the server sent it (what it says besides the items). */
  firstPage: P | undefined;
  status: 'loading' | 'ready' | 'error';
  error: unknown;
  hasMore: boolean;
  loadingMore: boolean;
  moreError: unknown;
  loadMore: () => void;
  /** Reads the loaded pages again, newest first (new items appear on top); resolves when they are in. */
  refreshFirst: () => Promise<void>;
  /** Starts over from the first page, showing the loading state. */
  reload: () => void;
  /** Changes items in place (after posting, marking read, …). */
  update: (fn: (items: T[]) => T[]) => void;
}

type Data<P> = InfiniteData<P, string | null>;

/**
 * A list read on a cursor, kept in the query cache under `key`: a new key is
 * another list, and TanStack Query drops answers for a key no longer shown
 * or a fetch that was superseded, so a slow response never overwrites a newer one.
 */
export function usePaged<T extends Identified, P extends Page<T> = Page<T>>(
  key: string,
  load: (cursor: string | null) => Promise<P>,
): Paged<T, P> {
  const client = useQueryClient();
  const queryKey = useMemo(() => ['paged', key], [key]);
  const q = useInfiniteQuery({
    queryKey,
    // The observer takes the newest options each render, so this is always the current `load`.
    queryFn: ({ pageParam }) => load(pageParam),
    initialPageParam: null as string | null,
    getNextPageParam: (last: P) => last.nextCursor ?? undefined,
  });
  const items = useMemo(() => flattenPages(q.data?.pages ?? []), [q.data]);

  const { fetchNextPage, refetch } = q;
  const loadMore = useCallback(() => void fetchNextPage({ cancelRefetch: false }), [fetchNextPage]);
  const refreshFirst = useCallback(() => client.invalidateQueries({ queryKey, exact: true }), [client, queryKey]);
  const reload = useCallback(() => {
    client.removeQueries({ queryKey, exact: true });
    void refetch();
  }, [client, queryKey, refetch]);
  const update = useCallback(
    (fn: (items: T[]) => T[]) =>
      client.setQueryData<Data<P>>(queryKey, (d) =>
        d ? { ...d, pages: repage(d.pages, fn(flattenPages<T>(d.pages))).map((p, i) => ({ ...d.pages[i], ...p })) } : d,
      ),
    [client, queryKey],
  );

  // A failed first read is shown; so is a refusal on a later read (the person
  // is no longer a friend). Any other failed background read keeps the screen.
  const listError =
    q.isLoadingError || (q.isRefetchError && !q.isFetchNextPageError && q.error instanceof ApiError && q.error.status < 500);

  return {
    items,
    firstPage: q.data?.pages[0],
    status: q.isPending ? 'loading' : listError ? 'error' : 'ready',
    error: listError ? q.error : null,
    hasMore: q.hasNextPage,
    loadingMore: q.isFetchingNextPage,
    moreError: q.isFetchNextPageError ? q.error : null,
    loadMore,
    refreshFirst,
    reload,
    update,
  };
}
