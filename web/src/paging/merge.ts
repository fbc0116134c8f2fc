// Pure helpers for lists read page by page on an opaque cursor.
import type { Page } from '../api/tidings';

export interface Identified {
  id: string;
}

export interface PagedState<T> {
  items: T[];
  nextCursor: string | null;
}

/** Appends an older page; items already shown (a shifted page) are not repeated. */
export function appendPage<T extends Identified>(state: PagedState<T>, page: Page<T>): PagedState<T> {
  const seen = new Set(state.items.map((i) => i.id));
  const fresh = page.items.filter((i) => !seen.has(i.id));
  return { items: [...state.items, ...fresh], nextCursor: page.nextCursor };
}

/**
 * Folds a freshly read first page into what is on screen: newer items go on
 * top, updated copies replace old ones, and the cursor for older pages is kept
 * (unless nothing was loaded before).
 */
export function mergeFirstPage<T extends Identified>(state: PagedState<T>, first: Page<T>): PagedState<T> {
  if (state.items.length === 0) return { items: first.items, nextCursor: first.nextCursor };
  const firstIds = new Set(first.items.map((i) => i.id));
  const rest = state.items.filter((i) => !firstIds.has(i.id));
  return { items: [...first.items, ...rest], nextCursor: state.nextCursor };
}
