import { useCallback, useEffect, useState } from 'react';
import { Link } from 'react-router';
import { describeError } from '../api/client';
import { api } from '../api/tidings';
import type { Notification } from '../api/types';
import { useMe } from '../auth/AuthContext';
import { Avatar } from '../components/Avatar';
import { PageHeading } from '../components/PageHeading';
import { LoadMore } from '../components/PostList';
import { EmptyState, ErrorState, Loading } from '../components/States';
import { formatFull, formatWhen } from '../components/time';
import { useLive } from '../notifications/LiveContext';
import { usePaged } from '../paging/usePaged';

/** Where a notification leads. */
export function notificationTarget(n: Notification, meId: string): string {
  if (n.type === 'friend.requested') return '/friends';
  if (n.actor.id && n.actor.id !== meId) return `/users/${encodeURIComponent(n.actor.id)}`;
  return '/';
}

export function NotificationsPage() {
  const me = useMe();
  const load = useCallback((cursor: string | null) => api.notifications(cursor), []);
  const list = usePaged<Notification>(`notifications:${me.id}`, load);
  const { subscribe, onResync, markRead, markAllRead, unread } = useLive();
  const { update, refreshFirst } = list;
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<string>();

  useEffect(
    () =>
      subscribe((n) => {
        update((items) => [n, ...items.filter((i) => i.id !== n.id)]);
      }),
    [subscribe, update],
  );
  useEffect(() => onResync(refreshFirst), [onResync, refreshFirst]);

  async function readOne(id: string) {
    setBusy(id);
    setError(undefined);
    try {
      await markRead([id]);
      update((items) => items.map((i) => (i.id === id ? { ...i, read: true } : i)));
    } catch (e) {
      setError(describeError(e));
    } finally {
      setBusy(null);
    }
  }

  async function readAll() {
    setBusy('all');
    setError(undefined);
    try {
      await markAllRead();
      update((items) => items.map((i) => ({ ...i, read: true })));
    } catch (e) {
      setError(describeError(e));
    } finally {
      setBusy(null);
    }
  }

  const anyUnread = unread > 0 || list.items.some((i) => !i.read);

  return (
    <>
      <div className="page-head-row">
        <PageHeading title="Notifications" />
        {list.status === 'ready' && list.items.length > 0 && (
          <button type="button" className="button button--secondary" onClick={readAll} disabled={!anyUnread || busy !== null}>
            {busy === 'all' ? 'Marking…' : 'Mark all as read'}
          </button>
        )}
      </div>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      {list.status === 'loading' ? (
        <Loading label="Loading notifications…" />
      ) : list.status === 'error' ? (
        <ErrorState error={list.error} title="Couldn't load notifications" onRetry={list.reload} />
      ) : list.items.length === 0 ? (
        <EmptyState title="You're all caught up">
          <p>When friends post or send you requests, you'll hear about it here.</p>
        </EmptyState>
      ) : (
        <>
          <ul className="notifications" aria-label="Notifications">
            {list.items.map((n) => (
              <li key={n.id} className={`card notification${n.read ? '' : ' notification--unread'}`}>
                <Avatar id={n.actor.id || n.id} name={n.actor.name} />
                <div className="notification__body">
                  <Link
                    to={notificationTarget(n, me.id)}
                    className="notification__text"
                    onClick={() => {
                      if (!n.read) void readOne(n.id);
                    }}
                  >
                    {!n.read && <span className="visually-hidden">Unread: </span>}
                    {n.text}
                  </Link>
                  <time dateTime={n.createdAt} title={formatFull(n.createdAt)} className="muted">
                    {formatWhen(n.createdAt)}
                  </time>
                </div>
                {!n.read && (
                  <button
                    type="button"
                    className="button button--small button--secondary"
                    onClick={() => readOne(n.id)}
                    disabled={busy !== null}
                    aria-label={`Mark as read: ${n.text}`}
                  >
                    Mark as read
                  </button>
                )}
              </li>
            ))}
          </ul>
          <LoadMore paged={list} what="notifications" />
        </>
      )}
    </>
  );
}
