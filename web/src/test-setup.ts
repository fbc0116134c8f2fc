import '@testing-library/jest-dom/vitest';
import { cleanup, configure } from '@testing-library/react';
import { afterEach } from 'vitest';

afterEach(() => cleanup());

// findBy/waitFor return as soon as what they wait for holds; the timeout
// only bounds a failure. The default second is too short on a busy 2-core
// machine (a page's first reads and its live socket came later than that
// there), so a test would fail for the machine, not the app.
configure({ asyncUtilTimeout: 10_000 });

// jsdom has no layout, so no scrolling; the app scrolls to the top on route change.
window.scrollTo = () => {};
