// A stand-in IntersectionObserver for tests (jsdom has none and no layout):
// the test says when an observed element comes into view.
import { act } from '@testing-library/react';
import { afterEach, beforeEach, vi } from 'vitest';

export class FakeIntersectionObserver {
  static live = new Set<FakeIntersectionObserver>();
  readonly targets = new Set<Element>();
  constructor(
    private readonly callback: IntersectionObserverCallback,
    readonly options: IntersectionObserverInit = {},
  ) {}
  observe(el: Element) {
    this.targets.add(el);
    FakeIntersectionObserver.live.add(this);
  }
  unobserve(el: Element) {
    this.targets.delete(el);
  }
  disconnect() {
    this.targets.clear();
    FakeIntersectionObserver.live.delete(this);
  }
  takeRecords(): IntersectionObserverEntry[] {
    return [];
  }

  /** How many observers watch something now. */
  static watching(): number {
    return [...FakeIntersectionObserver.live].filter((o) => o.targets.size > 0).length;
  }

  /** Every observed element comes into view (or leaves it). */
  static scrollNear(isIntersecting = true) {
    act(() => {
      for (const o of [...FakeIntersectionObserver.live]) {
        const entries = [...o.targets].map((target) => ({ target, isIntersecting }) as IntersectionObserverEntry);
        if (entries.length) o.callback(entries, o as unknown as IntersectionObserver);
      }
    });
  }
}

/** Call at the top of a test file (after stubWebSocketPerTest, whose cleanup unstubs every global). */
export function stubIntersectionObserverPerTest() {
  beforeEach(() => {
    FakeIntersectionObserver.live.clear();
    vi.stubGlobal('IntersectionObserver', FakeIntersectionObserver);
  });
  afterEach(() => vi.unstubAllGlobals());
}
