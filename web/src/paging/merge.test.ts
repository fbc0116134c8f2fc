import { describe, expect, it } from 'vitest';
import { flattenPages, repage } from './merge';

const items = (...ids: string[]) => ids.map((id) => ({ id }));

describe('flattenPages', () => {
  it('joins pages in order', () => {
    expect(flattenPages([{ items: items('5', '4'), nextCursor: 'c1' }, { items: items('3'), nextCursor: null }])).toEqual(
      items('5', '4', '3'),
    );
  });

  it('shows an item a shifted page repeats once', () => {
    expect(flattenPages([{ items: items('5', '4'), nextCursor: 'c1' }, { items: items('4', '3'), nextCursor: null }])).toEqual(
      items('5', '4', '3'),
    );
  });
});

describe('repage', () => {
  const pages = [
    { items: items('4', '3'), nextCursor: 'c1' },
    { items: items('2', '1'), nextCursor: null },
  ];

  it('puts a new item on the first page and keeps every cursor', () => {
    expect(repage(pages, items('5', '4', '3', '2', '1'))).toEqual([
      { items: items('5', '4', '3'), nextCursor: 'c1' },
      { items: items('2', '1'), nextCursor: null },
    ]);
  });

  it('keeps page sizes when items only change', () => {
    expect(repage(pages, [{ id: '4' }, { id: '3' }, { id: '2' }, { id: '1' }])).toEqual(pages);
  });

  it('makes one page when there were none', () => {
    expect(repage([], items('1'))).toEqual([{ items: items('1'), nextCursor: null }]);
  });
});
