import { createContext, useCallback, useContext, useEffect, useMemo, useReducer, useRef, useState, type ReactNode } from 'react';
import { api } from '../api/tidings';
import type { Notification } from '../api/types';
import { LiveSocket, streamUrl, type LiveStatus, type SocketConstructor } from './liveSocket';
import { initialUnread, isListChanged, parseNotification, unreadReducer } from './unread';

type Listener = (n: Notification) => void;
type ResyncListener = () => void;

interface LiveValue {
  unread: number;
  status: LiveStatus;
  /** Hears each new notification from the stream. */
  subscribe: (fn: Listener) => () => void;
  /** Hears each reconnect, and each change made elsewhere: lists should read their first page again. */
  onResync: (fn: ResyncListener) => () => void;
  markRead: (ids: string[]) => Promise<void>;
  markAllRead: () => Promise<void>;
  /** Last notification heard, for the polite live region. */
  lastAnnouncement: string;
}

const LiveContext = createContext<LiveValue | null>(null);

interface Props {
  children: ReactNode;
  WebSocketImpl?: SocketConstructor;
  url?: string;
  loadUnread?: () => Promise<number>;
}

const defaultLoadUnread = () => api.notifications(null, 1).then((p) => p.unread);

export function LiveProvider({ children, WebSocketImpl, url, loadUnread = defaultLoadUnread }: Props) {
  const [unread, dispatch] = useReducer(unreadReducer, initialUnread);
  const [status, setStatus] = useState<LiveStatus>('connecting');
  const [lastAnnouncement, setLastAnnouncement] = useState('');
  const listeners = useRef(new Set<Listener>());
  const resyncListeners = useRef(new Set<ResyncListener>());
  const loadUnreadRef = useRef(loadUnread);
  useEffect(() => {
    loadUnreadRef.current = loadUnread;
  }, [loadUnread]);

  const sync = useCallback(() => {
    loadUnreadRef.current().then(
      (count) => dispatch({ type: 'synced', count }),
      () => {
        // keep the count we have; the next reconnect or action syncs again
      },
    );
  }, []);

  useEffect(() => {
    const live = new LiveSocket({
      url: url ?? streamUrl(),
      WebSocketImpl,
      onStatus: setStatus,
      onOpen: ({ reconnected }) => {
        // Read the count on every open: it covers whatever arrived while we were away.
        sync();
        if (reconnected) resyncListeners.current.forEach((fn) => fn());
      },
      onMessage: (data) => {
        if (isListChanged(data)) {
          // Marked read in another tab or on another device, or taken back:
          // the count and the lists are read again, as after a reconnect.
          sync();
          resyncListeners.current.forEach((fn) => fn());
          return;
        }
        const n = parseNotification(data);
        if (!n) return;
        dispatch({ type: 'received', notification: n });
        setLastAnnouncement(`New notification: ${n.text || 'something happened'}`);
        listeners.current.forEach((fn) => fn(n));
      },
    });
    live.start();
    const online = () => live.retryNow();
    window.addEventListener('online', online);
    return () => {
      window.removeEventListener('online', online);
      live.stop();
    };
  }, [WebSocketImpl, url, sync]);

  const subscribe = useCallback((fn: Listener) => {
    listeners.current.add(fn);
    return () => {
      listeners.current.delete(fn);
    };
  }, []);
  const onResync = useCallback((fn: ResyncListener) => {
    resyncListeners.current.add(fn);
    return () => {
      resyncListeners.current.delete(fn);
    };
  }, []);

  const markRead = useCallback(
    async (ids: string[]) => {
      if (ids.length === 0) return;
      await api.markRead(ids);
      dispatch({ type: 'markedRead', ids });
      sync();
    },
    [sync],
  );
  const markAllRead = useCallback(async () => {
    await api.markAllRead();
    dispatch({ type: 'markedAllRead' });
    sync();
  }, [sync]);

  const value = useMemo<LiveValue>(
    () => ({ unread: unread.count, status, subscribe, onResync, markRead, markAllRead, lastAnnouncement }),
    [unread.count, status, subscribe, onResync, markRead, markAllRead, lastAnnouncement],
  );
  return <LiveContext.Provider value={value}>{children}</LiveContext.Provider>;
}

/** The unread count, or 0 outside the signed-in app (no live connection there). */
export function useUnreadCount(): number {
  return useContext(LiveContext)?.unread ?? 0;
}

export function useLive(): LiveValue {
  const v = useContext(LiveContext);
  if (!v) throw new Error('useLive outside LiveProvider');
  return v;
}
