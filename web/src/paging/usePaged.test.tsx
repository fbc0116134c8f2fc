import { act, renderHook, waitFor } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';
import type { Page } from '../api/tidings';
import { usePaged } from './usePaged';

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
    let newest = [{ id: 'b' }, { id: 'a' }];
    const load = vi.fn(async (cursor: string | null) =>
      cursor ? { items: [{ id: 'old' }], nextCursor: null } : { items: newest, nextCursor: 'k' },
    );
    const { result } = renderHook(() => usePaged<Item>('list', load));
    await waitFor(() => expect(result.current.status).toBe('ready'));
    act(() => result.current.loadMore());
    await waitFor(() => expect(result.current.items).toHaveLength(3));
    newest = [{ id: 'c' }, { id: 'b' }];
    act(() => result.current.refreshFirst());
    await waitFor(() => expect(result.current.items.map((i) => i.id)).toEqual(['c', 'b', 'a', 'old']));
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
