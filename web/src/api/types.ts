export interface User {
  id: string;
  email: string;
  name: string;
}

export interface Person {
  id: string;
  name: string;
}

export type Relation = 'none' | 'outgoing' | 'incoming' | 'friends';

export interface SearchResult extends Person {
  relation: Relation;
}

export interface FriendRequest {
  id: string;
  from: Person;
  to: Person;
  status: 'pending' | 'accepted' | string;
}

export interface Post {
  id: string;
  author: Person;
  text: string;
  image?: { src: string } | null;
  createdAt: string;
}

export type NotificationType = 'friend.requested' | 'friend.accepted' | 'post.created';

export interface Notification {
  id: string;
  type: NotificationType | string;
  actor: Person;
  postId?: string | null;
  text: string;
  read: boolean;
  createdAt: string;
}

/** One page of a cursor-paged list, whatever the list's JSON key is. */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}
