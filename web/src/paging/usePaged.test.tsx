import { QueryClientProvider } from '@tanstack/react-query';
import { act, renderHook as render, waitFor, type RenderHookOptions } from '@testing-library/react';
import type { ReactNode } from 'react';
import { describe, expect, it, vi } from 'vitest';
import type { Page } from '../api/tidings';
import { newQueryClient } from '../query/client';
import { usePaged } from './usePaged';

// Each test gets its own cache, as a fresh page load would.
function renderHook<R, P>(hook: (p: P) => R, options: RenderHookOptions<P> = {}) {
  const client = newQueryClient();
  const wrapper = ({ children }: { children: ReactNode }) => <QueryClientProvider client={client}>{children}</QueryClientProvider>;
  return render(hook, { ...options, wrapper });
}

type Item = { id: string };

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('usePaged', () => {
  it('loads the first page, then older pages on the cursor until the end', async () => {
    const pages: Record<string, Page<Item>> = {
      first: { items: [{ id: 'c' }, { id: 'b' }], nextCursor: 'k1' },
      k1: { items: [{ id: 'a' }], nextCursor: null },
    };
    const load = vi.fn(async (cursor: string | null) => pages[cursor ?? 'first']);
    const { result } = renderHook(() => usePaged<Item>('list', load));
    expect(result.current.status).toBe('loading');
    await waitFor(() => expect(result.current.status).toBe('ready'));
    expect(result.current.items.map((i) => i.id)).toEqual(['c', 'b']);
    expect(result.current.hasMore).toBe(true);
    act(() => result.current.loadMore());
    await waitFor(() => expect(result.current.items.map((i) => i.id)).toEqual(['c', 'b', 'a']));
    expect(result.current.hasMore).toBe(false);
    expect(load.mock.calls.map((c) => c[0])).toEqual([null, 'k1']);
  });

  it('shows an error state and recovers on reload', async () => {
    let fail = true;
    const load = vi.fn(async () => {
      if (fail) throw new Error('down');
      return { items: [{ id: 'x' }], nextCursor: null };
    });
    const { result } = renderHook(() => usePaged<Item>('list', load));
    await waitFor(() => expect(result.current.status).toBe('error'));
    fail = false;
    act(() => result.current.reload());
    await waitFor(() => expect(result.current.status).toBe('ready'));
    expect(result.current.items).toEqual([{ id: 'x' }]);
  });

  it('keeps loaded items when loading more fails, and can retry', async () => {
    let failMore = true;
    const load = vi.fn(async (cursor: string | null) => {
      if (!cursor) return { items: [{ id: '2' }], nextCursor: 'k' };
      if (failMore) throw new Error('flaky');
      return { items: [{ id: '1' }], nextCursor: null };
    });
    const { result } = renderHook(() => usePaged<Item>('list', load));
    await waitFor(() => expect(result.current.status).toBe('ready'));
    act(() => result.current.loadMore());
    await waitFor(() => expect(result.current.moreError).toBeTruthy());
    expect(result.current.items).toEqual([{ id: '2' }]);
    failMore = false;
    act(() => result.current.loadMore());
    await waitFor(() => expect(result.current.items).toEqual([{ id: '2' }, { id: '1' }]));
    expect(result.current.moreError).toBeNull();
  });

  it('refreshFirst puts new items on top without losing older pages', async () => {
    // A keyset server: a page is the items older than the cursor (the last id shown).
    let all = ['b', 'a', 'old'];
    const load = vi.fn(async (cursor: string | null) => {
      const from = cursor ? all.indexOf(cursor) + 1 : 0;
      const ids = all.slice(from, from + 2);
      return { items: ids.map((id) => ({ id })), nextCursor: from + 2 < all.length ? ids[ids.length - 1] : null };
    });
    const { result } = renderHook(() => usePaged<Item>('list', load));
    await waitFor(() => expect(result.current.status).toBe('ready'));
    act(() => result.current.loadMore());
    await waitFor(() => expect(result.current.items).toHaveLength(3));
    all = ['c', 'b', 'a', 'old'];
    act(() => void result.current.refreshFirst());
    await waitFor(() => expect(result.current.items.map((i) => i.id)).toEqual(['c', 'b', 'a', 'old']));
    expect(result.current.hasMore).toBe(false);
  });

  it('update changes items in place and puts new ones on top', async () => {
    const load = vi.fn(async (cursor: string | null) =>
      cursor ? { items: [{ id: '1' }], nextCursor: null } : { items: [{ id: '2' }], nextCursor: 'k' },
    );
    const { result } = renderHook(() => usePaged<Item>('list', load));
    await waitFor(() => expect(result.current.status).toBe('ready'));
    act(() => result.current.loadMore());
    await waitFor(() => expect(result.current.items).toHaveLength(2));
    act(() => result.current.update((items) => [{ id: '3' }, ...items]));
    await waitFor(() => expect(result.current.items.map((i) => i.id)).toEqual(['3', '2', '1']));
    expect(result.current.hasMore).toBe(false);
  });

  it('drops a slow answer for a list that was replaced', async () => {
    const slow = deferred<Page<Item>>();
    const load = vi.fn((cursor: string | null) => {
      void cursor;
      return slow.promise;
    });
    const fast = vi.fn(async () => ({ items: [{ id: 'new' }], nextCursor: null }));
    const { result, rerender } = renderHook(({ k, l }) => usePaged<Item>(k, l), {
      initialProps: { k: 'user:1', l: load as (c: string | null) => Promise<Page<Item>> },
    });
    rerender({ k: 'user:2', l: fast });
    await waitFor(() => expect(result.current.items).toEqual([{ id: 'new' }]));
    await act(async () => slow.resolve({ items: [{ id: 'stale' }], nextCursor: null }));
    expect(result.current.items).toEqual([{ id: 'new' }]);
  });
});
