// Pure helpers for lists read page by page on an opaque cursor.
import type { Page } from '../api/tidings';

export interface Identified {
  id: string;
}

/** The pages as one list; an item a shifted page repeats is shown once, where it came first. */
export function flattenPages<T extends Identified>(pages: readonly Page<T>[]): T[] {
  const seen = new Set<string>();
  const out: T[] = [];
  for (const p of pages)
    for (const i of p.items) {
      if (seen.has(i.id)) continue;
      seen.add(i.id);
      out.push(i);
    }
  return out;
}

/**
 * Puts a changed list back into pages: every page keeps its size and cursor
 * but the first, which takes what was added or removed (new items go on top).
 */
export function repage<T>(pages: readonly Page<T>[], items: T[]): Page<T>[] {
  if (pages.length === 0) return [{ items, nextCursor: null }];
  const restSizes = pages.slice(1).map((p) => p.items.length);
  const firstSize = Math.max(0, items.length - restSizes.reduce((a, b) => a + b, 0));
  const out: Page<T>[] = [{ items: items.slice(0, firstSize), nextCursor: pages[0].nextCursor }];
  let at = firstSize;
  pages.slice(1).forEach((p, i) => {
    out.push({ items: items.slice(at, at + restSizes[i]), nextCursor: p.nextCursor });
    at += restSizes[i];
  });
  return out;
}
