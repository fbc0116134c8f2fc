import { useCallback, useEffect, useRef, useState } from 'react';
import type { Page } from '../api/tidings';
import { appendPage, mergeFirstPage, type Identified } from './merge';

export type LoadPage<T> = (cursor: string | null) => Promise<Page<T>>;

export interface Paged<T> {
  items: T[];
  status: 'loading' | 'ready' | 'error';
  error: unknown;
  hasMore: boolean;
  loadingMore: boolean;
  moreError: unknown;
  loadMore: () => void;
  /** Reads the first page again and folds it in (new items appear on top). */
  refreshFirst: () => void;
  /** Starts over from the first page, showing the loading state. */
  reload: () => void;
  /** Changes items in place (after marking read, removing, …). */
  update: (fn: (items: T[]) => T[]) => void;
}

/**
 * A list read on a cursor. `key` identifies the list: a new key starts over.
 * Answers to an older key or an older reload are dropped, so a slow response
 * never overwrites a newer one.
 */
export function usePaged<T extends Identified>(key: string, load: LoadPage<T>): Paged<T> {
  const [items, setItems] = useState<T[]>([]);
  const [nextCursor, setNextCursor] = useState<string | null>(null);
  const [status, setStatus] = useState<Paged<T>['status']>('loading');
  const [error, setError] = useState<unknown>(null);
  const [loadingMore, setLoadingMore] = useState(false);
  const [moreError, setMoreError] = useState<unknown>(null);
  const generation = useRef(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  const stateRef = useRef({ items, nextCursor });
  stateRef.current = { items, nextCursor };

  const reload = useCallback(() => {
    const gen = ++generation.current;
    setStatus('loading');
    setError(null);
    setMoreError(null);
    loadRef.current(null).then(
      (page) => {
        if (gen !== generation.current) return;
        setItems(page.items);
        setNextCursor(page.nextCursor);
        setStatus('ready');
      },
      (err: unknown) => {
        if (gen !== generation.current) return;
        setError(err);
        setStatus('error');
      },
    );
  }, []);

  useEffect(() => {
    setItems([]);
    setNextCursor(null);
    reload();
    return () => {
      generation.current++;
    };
  }, [key, reload]);

  const loadMore = useCallback(() => {
    const cursor = stateRef.current.nextCursor;
    if (!cursor) return;
    const gen = generation.current;
    setLoadingMore(true);
    setMoreError(null);
    loadRef.current(cursor).then(
      (page) => {
        if (gen !== generation.current) return;
        const next = appendPage(stateRef.current, page);
        setItems(next.items);
        setNextCursor(next.nextCursor);
        setLoadingMore(false);
      },
      (err: unknown) => {
        if (gen !== generation.current) return;
        setMoreError(err);
        setLoadingMore(false);
      },
    );
  }, []);

  const refreshFirst = useCallback(() => {
    const gen = generation.current;
    loadRef.current(null).then(
      (page) => {
        if (gen !== generation.current) return;
        const next = mergeFirstPage(stateRef.current, page);
        setItems(next.items);
        setNextCursor(next.nextCursor);
        setStatus('ready');
        setError(null);
      },
      () => {
        // A failed background refresh keeps what is on screen; the next event retries.
      },
    );
  }, []);

  const update = useCallback((fn: (items: T[]) => T[]) => setItems((prev) => fn(prev)), []);

  return {
    items,
    status,
    error,
    hasMore: nextCursor !== null,
    loadingMore,
    moreError,
    loadMore,
    refreshFirst,
    reload,
    update,
  };
}
