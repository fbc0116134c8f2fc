import { describe, expect, it } from 'vitest';
import { appendPage, mergeFirstPage } from './merge';

const items = (...ids: string[]) => ids.map((id) => ({ id }));

describe('appendPage', () => {
  it('adds older items and takes the new cursor', () => {
    const s = appendPage({ items: items('5', '4'), nextCursor: 'c1' }, { items: items('3', '2'), nextCursor: 'c2' });
    expect(s).toEqual({ items: items('5', '4', '3', '2'), nextCursor: 'c2' });
  });

  it('skips items already shown (the list shifted between pages)', () => {
    const s = appendPage({ items: items('5', '4'), nextCursor: 'c1' }, { items: items('4', '3'), nextCursor: null });
    expect(s).toEqual({ items: items('5', '4', '3'), nextCursor: null });
  });
});

describe('mergeFirstPage', () => {
  it('puts new items on top and keeps the older cursor', () => {
    const s = mergeFirstPage({ items: items('4', '3', '2', '1'), nextCursor: 'old' }, { items: items('6', '5', '4', '3'), nextCursor: 'fresh' });
    expect(s).toEqual({ items: items('6', '5', '4', '3', '2', '1'), nextCursor: 'old' });
  });

  it('takes the page as is when nothing was loaded', () => {
    expect(mergeFirstPage({ items: [], nextCursor: null }, { items: items('1'), nextCursor: 'c' })).toEqual({
      items: items('1'),
      nextCursor: 'c',
    });
  });

  it('replaces stale copies with the fresh ones', () => {
    const s = mergeFirstPage(
      { items: [{ id: '1', v: 'old' }], nextCursor: null },
      { items: [{ id: '2', v: 'new' }, { id: '1', v: 'new' }], nextCursor: null },
    );
    expect(s.items).toEqual([{ id: '2', v: 'new' }, { id: '1', v: 'new' }]);
  });
});
