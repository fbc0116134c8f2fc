import { useCallback, useEffect, useMemo, useState } from 'react';
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
import { groupNotifications, groupTarget } from '../notifications/groups';
import { useLive } from '../notifications/LiveContext';
import { usePaged } from '../paging/usePaged';

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

  const groups = useMemo(() => groupNotifications(list.items), [list.items]);

  /** Marks a row read: every notification it stands for. */
  async function readGroup(key: string, ids: string[]) {
    setBusy(key);
    setError(undefined);
    try {
      await markRead(ids);
      update((items) => items.map((i) => (ids.includes(i.id) ? { ...i, read: true } : i)));
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
            {groups.map((g) => {
              const n = g.items[0];
              const ids = g.items.map((i) => i.id);
              return (
                <li key={g.key} className={`card notification${g.read ? '' : ' notification--unread'}`}>
                  <Avatar id={n.actor.id || n.id} name={n.actor.name} />
                  <div className="notification__body">
                    <Link
                      to={groupTarget(g, me.id)}
                      className="notification__text"
                      onClick={() => {
                        if (!g.read) void readGroup(g.key, ids);
                      }}
                    >
                      {!g.read && <span className="visually-hidden">Unread: </span>}
                      {g.text}
                    </Link>
                    <time dateTime={n.createdAt} title={formatFull(n.createdAt)} className="muted">
                      {formatWhen(n.createdAt)}
                    </time>
                  </div>
                  {!g.read && (
                    <button
                      type="button"
                      className="button button--small button--secondary"
                      onClick={() => readGroup(g.key, ids)}
                      disabled={busy !== null}
                      aria-label={`Mark as read: ${g.text}`}
                    >
                      Mark as read
                    </button>
                  )}
                </li>
              );
            })}
          </ul>
          <LoadMore paged={list} what="notifications" />
        </>
      )}
    </>
  );
}
