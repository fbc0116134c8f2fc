import { useCallback, useEffect, useMemo, useState } from 'react';
import type { Notification } from '../api/types';

/**
 * Friends' posts the live stream announced that the list does not show yet.
 * They wait behind a "Show N new posts" pill instead of pushing what is being
 * read down the page. The count is what was announced minus what is shown, so
 * a read that brings them in anyway (a reconnect's resync) clears the pill.
 */
export function useNewPosts(shownIds: readonly string[], subscribe: (fn: (n: Notification) => void) => () => void) {
  const [announced, setAnnounced] = useState<string[]>([]);
  useEffect(
    () =>
      subscribe((n) => {
        if (n.type !== 'post.created') return;
        const id = n.postId ?? n.id;
        setAnnounced((a) => (a.includes(id) ? a : [...a, id]));
      }),
    [subscribe],
  );
  const waiting = useMemo(() => {
    const shown = new Set(shownIds);
    return announced.filter((id) => !shown.has(id)).length;
  }, [announced, shownIds]);
  const clear = useCallback(() => setAnnounced([]), []);
  return { waiting, clear };
}

/** The pill at the top of the list: sticky under the top bar, taking no room of its own. */
export function NewPostsPill({ waiting, onShow }: { waiting: number; onShow: () => void }) {
  return (
    <div className="new-posts">
      {waiting > 0 && (
        <button type="button" className="new-posts__pill" onClick={onShow}>
          <span aria-hidden="true">↑ </span>
          {waiting === 1 ? 'Show 1 new post' : `Show ${waiting} new posts`}
        </button>
      )}
    </div>
  );
}
