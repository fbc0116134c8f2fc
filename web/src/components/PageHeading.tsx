import { useEffect, type ReactNode } from 'react';
import { useUnreadCount } from '../notifications/LiveContext';

/** The tab's title: the unread count first, so it shows in a narrow tab. */
export function documentTitle(title: string, unread: number): string {
  return `${unread > 0 ? `(${unread > 99 ? '99+' : unread}) ` : ''}${title} · Tidings`;
}

/**
 * The page's h1. It can take focus (tabIndex -1) so that route changes move
 * keyboard and screen-reader users to the new page's title.
 */
export function PageHeading({ title, children }: { title: string; children?: ReactNode }) {
  const unread = useUnreadCount();
  useEffect(() => {
    document.title = documentTitle(title, unread);
  }, [title, unread]);
  return (
    <h1 tabIndex={-1} className="page-heading">
      {children ?? title}
    </h1>
  );
}
