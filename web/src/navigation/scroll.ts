// Where each history entry was scrolled to, so Back returns to the same place.
// The lists come back from the query cache at once; pictures may still be
// loading, so the restore tries again for a few frames until the page is tall enough.

const positions = new Map<string, number>();

export function savePosition(key: string, y: number) {
  positions.set(key, y);
}

export function savedPosition(key: string): number | undefined {
  return positions.get(key);
}

/** Scrolls to y as soon as the page is tall enough; returns a cancel function. */
export function restorePosition(y: number, frames = 60): () => void {
  let handle = 0;
  let left = frames;
  const attempt = () => {
    window.scrollTo(0, y);
    if (Math.abs(window.scrollY - y) < 2 || --left <= 0) return;
    handle = requestAnimationFrame(attempt);
  };
  attempt();
  return () => cancelAnimationFrame(handle);
}
