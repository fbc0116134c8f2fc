import { describe, expect, it } from 'vitest';
import type { Notification, NotificationType } from '../api/types';
import { groupNotifications, groupTarget } from './groups';

let seq = 0;
const n = (type: NotificationType, actor: string, opts: { read?: boolean; postId?: string } = {}): Notification => {
  const text = { 'post.created': `${actor} posted`, 'friend.requested': `${actor} sent you a friend request`, 'friend.accepted': `${actor} accepted your friend request` }[type];
  return {
    id: `n${++seq}`,
    type,
    actor: { id: `u-${actor}`, name: actor },
    postId: type === 'post.created' ? (opts.postId ?? `p${seq}`) : undefined,
    text,
    read: opts.read ?? false,
    createdAt: new Date(2026, 0, 1, 0, 0, 100 - seq).toISOString(),
  };
};

describe('groupNotifications', () => {
  it('makes one row of one person\'s posts and one of everyone\'s friend requests', () => {
    const items = [
      n('post.created', 'Ann'),
      n('friend.requested', 'Bob'),
      n('post.created', 'Ann'),
      n('post.created', 'Cy'),
      n('friend.requested', 'Dee'),
      n('post.created', 'Ann'),
      n('friend.requested', 'Eve'),
    ];
    const groups = groupNotifications(items);
    expect(groups.map((g) => g.text)).toEqual(['Ann posted 3 times', 'Bob and 2 others sent you friend requests', 'Cy posted']);
    expect(groups[0].items.map((i) => i.id)).toEqual([items[0].id, items[2].id, items[5].id]);
  });

  it('keeps read and unread apart, and names one other in the singular', () => {
    const groups = groupNotifications([
      n('friend.accepted', 'Ann'),
      n('friend.accepted', 'Bob'),
      n('post.created', 'Ann', { read: true }),
      n('post.created', 'Ann'),
    ]);
    expect(groups.map((g) => [g.text, g.read])).toEqual([
      ['Ann and 1 other accepted your friend requests', false],
      ['Ann posted', true],
      ['Ann posted', false],
    ]);
  });

  it('a person who asked twice is still one person', () => {
    expect(groupNotifications([n('friend.requested', 'Bob'), n('friend.requested', 'Bob')])[0].text).toBe('Bob sent you a friend request');
  });
});

describe('groupTarget', () => {
  it('opens one post, or the profile of whoever posted several', () => {
    const [one] = groupNotifications([n('post.created', 'Ann', { postId: 'p-1' })]);
    expect(groupTarget(one, 'me')).toBe('/posts/p-1');
    const [several] = groupNotifications([n('post.created', 'Ann'), n('post.created', 'Ann')]);
    expect(groupTarget(several, 'me')).toBe('/users/u-Ann');
    const [requests] = groupNotifications([n('friend.requested', 'Bob')]);
    expect(groupTarget(requests, 'me')).toBe('/friends');
    const [accepted] = groupNotifications([n('friend.accepted', 'Bob')]);
    expect(groupTarget(accepted, 'me')).toBe('/users/u-Bob');
  });
});
