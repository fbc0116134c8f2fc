import { useEffect, useRef } from 'react';

/**
 * Infinite scroll: calls `loadMore` when the returned element (a sentinel
 * under the list) comes within `margin` of the viewport. A new observer is
 * made each time loading is allowed again, and an observer reports the
 * sentinel's state when it starts, so a page that still leaves the sentinel
 * in view loads the next one too. Without IntersectionObserver nothing
 * happens: the "Load more" button is always there as well.
 */
export function useLoadWhenNear<E extends Element>(allowed: boolean, loadMore: () => void, margin = 800) {
  const sentinel = useRef<E>(null);
  const load = useRef(loadMore);
  useEffect(() => {
    load.current = loadMore;
  }, [loadMore]);

  useEffect(() => {
    const el = sentinel.current;
    if (!allowed || !el || typeof IntersectionObserver === 'undefined') return;
    const observer = new IntersectionObserver(
      (entries) => {
        if (entries.some((e) => e.isIntersecting)) load.current();
      },
      { rootMargin: `0px 0px ${margin}px 0px` },
    );
    observer.observe(el);
    return () => observer.disconnect();
  }, [allowed, margin]);

  return sentinel;
}
