import { useEffect, type ReactNode } from 'react';

/**
 * The page's h1. It can take focus (tabIndex -1) so that route changes move
 * keyboard and screen-reader users to the new page's title.
 */
export function PageHeading({ title, children }: { title: string; children?: ReactNode }) {
  useEffect(() => {
    document.title = `${title} · Tidings`;
  }, [title]);
  return (
    <h1 tabIndex={-1} className="page-heading">
      {children ?? title}
    </h1>
  );
}
