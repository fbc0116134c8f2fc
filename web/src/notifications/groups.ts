// Groups like notifications into one row: "Ann posted 3 times", "Bob and 2
// others sent you friend requests". Grouping is done here, in the client,
// not by the API: the API pages plain rows by keyset and the live stream
// pushes single notifications, which the list must merge into an existing
// group anyway; server-side groups would need their own cursors and would
// change under the reader as rows arrive. Marking read still goes by ids.
import type { Notification } from '../api/types';

export interface NotificationGroup {
  /** Stable across renders: the kind, whose (for posts), and read or not. */
  key: string;
  /** Newest first; the first one dates the group. */
  items: Notification[];
  read: boolean;
  text: string;
}

// Read and unread stay apart, so a row is either one or the other.
function keyOf(n: Notification): string {
  const who = n.type === 'post.created' ? `:${n.actor.id}` : '';
  return `${n.type}${who}:${n.read ? 'read' : 'unread'}`;
}

/** Groups the loaded notifications (newest first), each group where its newest member is. */
export function groupNotifications(items: Notification[]): NotificationGroup[] {
  const byKey = new Map<string, Notification[]>();
  for (const n of items) {
    const k = keyOf(n);
    const list = byKey.get(k);
    if (list) list.push(n);
    else byKey.set(k, [n]);
  }
  return [...byKey.entries()].map(([key, members]) => ({
    key,
    items: members,
    read: members[0].read,
    text: groupText(members),
  }));
}

function groupText(members: Notification[]): string {
  const first = members[0];
  if (members.length === 1) return first.text;
  const actors = new Map(members.map((n) => [n.actor.id, n.actor.name]));
  const others = actors.size - 1;
  const who = others === 0 ? first.actor.name : `${first.actor.name} and ${others} ${others === 1 ? 'other' : 'others'}`;
  switch (first.type) {
    case 'post.created':
      return `${first.actor.name} posted ${members.length} times`;
    case 'friend.requested':
      return others === 0 ? first.text : `${who} sent you friend requests`;
    case 'friend.accepted':
      return others === 0 ? first.text : `${who} accepted your friend requests`;
  }
}

/** Where a group leads: one post opens the post; several, whose they are. */
export function groupTarget(g: NotificationGroup, meId: string): string {
  const first = g.items[0];
  const profile = first.actor.id && first.actor.id !== meId ? `/users/${encodeURIComponent(first.actor.id)}` : '/';
  switch (first.type) {
    case 'friend.requested':
      return '/friends';
    case 'post.created':
      return g.items.length === 1 && first.postId ? `/posts/${encodeURIComponent(first.postId)}` : profile;
    case 'friend.accepted':
      return new Set(g.items.map((n) => n.actor.id)).size === 1 ? profile : '/friends';
  }
}
