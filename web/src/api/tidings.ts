// Typed calls for each API route; the types come from the API contract (types.ts).
import { request, uploadMultipart, type UploadProgress } from './client';
import type {
  AuthorPostPage,
  FriendRequest,
  FriendRequests,
  Friends,
  LoginRequest,
  Notification,
  NotificationPage,
  Person,
  PersonCard,
  Post,
  PostPage,
  SignupRequest,
  UploadedPicture,
  User,
  UserSearch,
} from './types';

/** One page of a cursor-paged list, whatever the list's JSON key is. */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

function withCursor(path: string, cursor?: string | null, limit?: number): string {
  const params = new URLSearchParams();
  if (cursor) params.set('cursor', cursor);
  if (limit) params.set('limit', String(limit));
  const q = params.toString();
  return q ? `${path}?${q}` : path;
}

export const api = {
  signup: (input: SignupRequest) =>
    request<User>('POST', '/api/signup', { body: input, quietUnauthorized: true }),
  login: (input: LoginRequest) =>
    request<User>('POST', '/api/login', { body: input, quietUnauthorized: true }),
  logout: () => request<void>('POST', '/api/logout', { quietUnauthorized: true }),
  me: (signal?: AbortSignal) => request<User>('GET', '/api/me', { signal, quietUnauthorized: true }),

  searchUsers: (q: string, signal?: AbortSignal) =>
    request<UserSearch>('GET', `/api/users?q=${encodeURIComponent(q)}`, { signal }).then((r) => r.users ?? []),
  sendFriendRequest: (userId: string) => request<FriendRequest>('POST', '/api/friends/requests', { body: { userId } }),
  friendRequests: () =>
    request<FriendRequests>('GET', '/api/friends/requests').then((r) => ({
      incoming: r.incoming ?? [],
      outgoing: r.outgoing ?? [],
    })),
  acceptRequest: (id: string) => request<FriendRequest>('POST', `/api/friends/requests/${encodeURIComponent(id)}/accept`),
  declineRequest: (id: string) => request<void>('POST', `/api/friends/requests/${encodeURIComponent(id)}/decline`),
  cancelRequest: (id: string) => request<void>('DELETE', `/api/friends/requests/${encodeURIComponent(id)}`),
  friends: () => request<Friends>('GET', '/api/friends').then((r) => r.friends ?? []),
  unfriend: (userId: string) => request<void>('DELETE', `/api/friends/${encodeURIComponent(userId)}`),

  uploadPicture: (file: File, onProgress?: (p: UploadProgress) => void, signal?: AbortSignal) => {
    const form = new FormData();
    form.append('file', file, file.name);
    return uploadMultipart<UploadedPicture>('/api/files', form, onProgress, signal);
  },
  createPost: (input: { text: string; fileId?: string }) => request<Post>('POST', '/api/posts', { body: input }),
  feed: (cursor?: string | null, limit?: number): Promise<Page<Post>> =>
    request<PostPage>('GET', withCursor('/api/posts', cursor, limit)).then((r) => ({
      items: r.posts ?? [],
      nextCursor: r.nextCursor || null,
    })),
  /** Who someone is (their card), friend or not; their posts stay behind userPosts. */
  person: (userId: string, signal?: AbortSignal) =>
    request<PersonCard>('GET', `/api/users/${encodeURIComponent(userId)}`, { signal }),
  /** One post; a 404 for anyone but its author and the author's friends. */
  post: (id: string, signal?: AbortSignal) => request<Post>('GET', `/api/posts/${encodeURIComponent(id)}`, { signal }),
  /** One person's posts, and who they are (`user`); a 404 for anyone but yourself and your friends. */
  userPosts: (userId: string, cursor?: string | null, limit?: number): Promise<Page<Post> & { user: Person | null }> =>
    request<AuthorPostPage>(
      'GET',
      withCursor(`/api/users/${encodeURIComponent(userId)}/posts`, cursor, limit),
    ).then((r) => ({ user: r.user ?? null, items: r.posts ?? [], nextCursor: r.nextCursor || null })),

  notifications: (cursor?: string | null, limit?: number): Promise<Page<Notification> & { unread: number }> =>
    request<NotificationPage>(
      'GET',
      withCursor('/api/notifications', cursor, limit),
    ).then((r) => ({ items: r.notifications ?? [], nextCursor: r.nextCursor || null, unread: r.unread ?? 0 })),
  markRead: (ids: string[]) => request<void>('POST', '/api/notifications/read', { body: { ids } }),
  markAllRead: () => request<void>('POST', '/api/notifications/read', { body: { all: true } }),
};

export type Api = typeof api;
