// Typed calls for each API route in the API document.
import { request, uploadMultipart, type UploadProgress } from './client';
import type { FriendRequest, Notification, Page, Person, Post, SearchResult, User } from './types';

function withCursor(path: string, cursor?: string | null, limit?: number): string {
  const params = new URLSearchParams();
  if (cursor) params.set('cursor', cursor);
  if (limit) params.set('limit', String(limit));
  const q = params.toString();
  return q ? `${path}?${q}` : path;
}

export const api = {
  signup: (input: { email: string; password: string; name: string }) =>
    request<User>('POST', '/api/signup', { body: input, quietUnauthorized: true }),
  login: (input: { email: string; password: string }) =>
    request<User>('POST', '/api/login', { body: input, quietUnauthorized: true }),
  logout: () => request<void>('POST', '/api/logout', { quietUnauthorized: true }),
  me: (signal?: AbortSignal) => request<User>('GET', '/api/me', { signal, quietUnauthorized: true }),

  searchUsers: (q: string, signal?: AbortSignal) =>
    request<{ users: SearchResult[] }>('GET', `/api/users?q=${encodeURIComponent(q)}`, { signal }).then((r) => r.users ?? []),
  sendFriendRequest: (userId: string) => request<FriendRequest>('POST', '/api/friends/requests', { body: { userId } }),
  friendRequests: () =>
    request<{ incoming: FriendRequest[] | null; outgoing: FriendRequest[] | null }>('GET', '/api/friends/requests').then((r) => ({
      incoming: r.incoming ?? [],
      outgoing: r.outgoing ?? [],
    })),
  acceptRequest: (id: string) => request<FriendRequest>('POST', `/api/friends/requests/${encodeURIComponent(id)}/accept`),
  declineRequest: (id: string) => request<void>('POST', `/api/friends/requests/${encodeURIComponent(id)}/decline`),
  cancelRequest: (id: string) => request<void>('DELETE', `/api/friends/requests/${encodeURIComponent(id)}`),
  friends: () => request<{ friends: Person[] | null }>('GET', '/api/friends').then((r) => r.friends ?? []),
  unfriend: (userId: string) => request<void>('DELETE', `/api/friends/${encodeURIComponent(userId)}`),

  uploadPicture: (file: File, onProgress?: (p: UploadProgress) => void, signal?: AbortSignal) => {
    const form = new FormData();
    form.append('file', file, file.name);
    return uploadMultipart<{ id: string; src: string }>('/api/files', form, onProgress, signal);
  },
  createPost: (input: { text: string; fileId?: string }) => request<Post>('POST', '/api/posts', { body: input }),
  feed: (cursor?: string | null, limit?: number): Promise<Page<Post>> =>
    request<{ posts: Post[] | null; nextCursor?: string | null }>('GET', withCursor('/api/posts', cursor, limit)).then((r) => ({
      items: r.posts ?? [],
      nextCursor: r.nextCursor || null,
    })),
  /** One person's posts, and who they are (`user`); a 404 for anyone but yourself and your friends. */
  userPosts: (userId: string, cursor?: string | null, limit?: number): Promise<Page<Post> & { user: Person | null }> =>
    request<{ user?: Person | null; posts: Post[] | null; nextCursor?: string | null }>(
      'GET',
      withCursor(`/api/users/${encodeURIComponent(userId)}/posts`, cursor, limit),
    ).then((r) => ({ user: r.user ?? null, items: r.posts ?? [], nextCursor: r.nextCursor || null })),

  notifications: (cursor?: string | null, limit?: number): Promise<Page<Notification> & { unread: number }> =>
    request<{ notifications: Notification[] | null; nextCursor?: string | null; unread?: number }>(
      'GET',
      withCursor('/api/notifications', cursor, limit),
    ).then((r) => ({ items: r.notifications ?? [], nextCursor: r.nextCursor || null, unread: r.unread ?? 0 })),
  markRead: (ids: string[]) => request<void>('POST', '/api/notifications/read', { body: { ids } }),
  markAllRead: () => request<void>('POST', '/api/notifications/read', { body: { all: true } }),
};

export type Api = typeof api;
