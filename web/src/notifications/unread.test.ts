import { describe, expect, it } from 'vitest';
import type { Notification } from '../api/types';
import { badgeText, bellLabel, initialUnread, isListChanged, parseNotification, unreadReducer } from './unread';

const note = (id: string, read = false): Notification => ({
  id,
  type: 'post.created',
  actor: { id: 'u1', name: 'Ann' },
  text: 'Ann posted',
  read,
  createdAt: '2026-01-01T00:00:00Z',
});

describe('unreadReducer', () => {
  it('syncs, counts new unread notifications once, and ignores read ones', () => {
    let s = unreadReducer(initialUnread, { type: 'synced', count: 2 });
    expect(s.count).toBe(2);
    s = unreadReducer(s, { type: 'received', notification: note('a') });
    s = unreadReducer(s, { type: 'received', notification: note('a') }); // redelivered
    s = unreadReducer(s, { type: 'received', notification: note('b', true) });
    expect(s.count).toBe(3);
  });

  it('goes down when marked read, never below zero', () => {
    let s = unreadReducer(initialUnread, { type: 'synced', count: 2 });
    s = unreadReducer(s, { type: 'markedRead', ids: ['x', 'y', 'z'] });
    expect(s.count).toBe(0);
    s = unreadReducer(s, { type: 'received', notification: note('c') });
    expect(s.count).toBe(1);
    s = unreadReducer(s, { type: 'markedAllRead' });
    expect(s.count).toBe(0);
    expect(unreadReducer(s, { type: 'synced', count: -4 }).count).toBe(0);
  });

  it('a sync replaces the local count and forgets counted ids', () => {
    let s = unreadReducer(initialUnread, { type: 'received', notification: note('a') });
    s = unreadReducer(s, { type: 'synced', count: 5 });
    expect(s.count).toBe(5);
    s = unreadReducer(s, { type: 'received', notification: note('a') });
    expect(s.count).toBe(6);
  });
});

describe('parseNotification', () => {
  it('reads a stream message', () => {
    const n = parseNotification(JSON.stringify(note('a')));
    expect(n).toMatchObject({ id: 'a', type: 'post.created', actor: { name: 'Ann' }, read: false });
  });

  it('drops junk', () => {
    expect(parseNotification('not json')).toBeNull();
    expect(parseNotification('42')).toBeNull();
    expect(parseNotification('{"type":"post.created"}')).toBeNull();
    expect(parseNotification('{"id":"a","type":"user.poked"}')).toBeNull(); // not a type the contract names
  });
});

describe('isListChanged', () => {
  it('tells the list-changed message from a notification and from junk', () => {
    expect(isListChanged('{"changed":"read"}')).toBe(true);
    expect(isListChanged('{"changed":"removed"}')).toBe(true);
    expect(isListChanged(JSON.stringify(note('a')))).toBe(false);
    expect(isListChanged('not json')).toBe(false);
    expect(parseNotification('{"changed":"read"}')).toBeNull();
  });
});

describe('bell text', () => {
  it('labels and caps the badge', () => {
    expect(bellLabel(0)).toBe('Notifications, none unread');
    expect(bellLabel(3)).toBe('Notifications, 3 unread');
    expect(badgeText(7)).toBe('7');
    expect(badgeText(120)).toBe('99+');
  });
});
