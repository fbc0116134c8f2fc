// The bell's unread count: set from the server, bumped by live messages.
import { notificationTypeValues, type Notification, type NotificationType } from '../api/types';

export interface UnreadState {
  count: number;
  /** Ids already counted since the last sync: redelivered messages count once. */
  counted: ReadonlySet<string>;
}

export type UnreadAction =
  | { type: 'synced'; count: number }
  | { type: 'received'; notification: Notification }
  | { type: 'markedRead'; ids: string[] }
  | { type: 'markedAllRead' }
  | { type: 'reset' };

export const initialUnread: UnreadState = { count: 0, counted: new Set() };

export function unreadReducer(state: UnreadState, action: UnreadAction): UnreadState {
  switch (action.type) {
    case 'synced':
      return { count: Math.max(0, action.count), counted: new Set() };
    case 'received': {
      const n = action.notification;
      if (n.read || state.counted.has(n.id)) return state;
      const counted = new Set(state.counted);
      counted.add(n.id);
      return { count: state.count + 1, counted };
    }
    case 'markedRead':
      return { count: Math.max(0, state.count - action.ids.length), counted: state.counted };
    case 'markedAllRead':
      return { count: 0, counted: state.counted };
    case 'reset':
      return initialUnread;
  }
}

/** Reads one stream message; anything that isn't a notification is dropped. */
export function parseNotification(data: string): Notification | null {
  let v: unknown;
  try {
    v = JSON.parse(data);
  } catch {
    return null;
  }
  if (!v || typeof v !== 'object') return null;
  const n = v as Record<string, unknown>;
  if (typeof n.id !== 'string' || !isNotificationType(n.type)) return null;
  const actor = n.actor && typeof n.actor === 'object' ? (n.actor as Record<string, unknown>) : {};
  return {
    id: n.id,
    type: n.type,
    actor: { id: String(actor.id ?? ''), name: String(actor.name ?? 'Someone') },
    postId: typeof n.postId === 'string' ? n.postId : undefined,
    text: typeof n.text === 'string' ? n.text : '',
    read: n.read === true,
    createdAt: typeof n.createdAt === 'string' ? n.createdAt : new Date().toISOString(),
  };
}

/**
 * The stream's other message: the list changed in a way no new item shows
 * (read in another tab or device, or taken back), so read it again.
 */
export function isListChanged(data: string): boolean {
  try {
    const v: unknown = JSON.parse(data);
    return !!v && typeof v === 'object' && typeof (v as Record<string, unknown>).changed === 'string';
  } catch {
    return false;
  }
}

function isNotificationType(t: unknown): t is NotificationType {
  return notificationTypeValues.includes(t as NotificationType);
}

/** What the bell says to a screen reader. */
export function bellLabel(count: number): string {
  if (count <= 0) return 'Notifications, none unread';
  return `Notifications, ${count} unread`;
}

/** What the badge shows: big counts are capped so the bell keeps its shape. */
export function badgeText(count: number): string {
  return count > 99 ? '99+' : String(count);
}
