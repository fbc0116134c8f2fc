import '@testing-library/jest-dom/vitest';
import { cleanup } from '@testing-library/react';
import { afterEach } from 'vitest';

afterEach(() => cleanup());

// jsdom has no layout, so no scrolling; the app scrolls to the top on route change.
window.scrollTo = () => {};
