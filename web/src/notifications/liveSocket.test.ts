import { beforeEach, describe, expect, it, vi } from 'vitest';
import { FakeSocket } from './fakeSocket';
import { LiveSocket, backoffDelay, streamUrl, type LiveStatus } from './liveSocket';

/** Timers the test fires by hand, so no test waits on the clock. */
function manualTimers() {
  const pending: { fn: () => void; ms: number; id: number }[] = [];
  let next = 1;
  return {
    pending,
    setTimer: (fn: () => void, ms: number) => {
      const id = next++;
      pending.push({ fn, ms, id });
      return id;
    },
    clearTimer: (h: unknown) => {
      const i = pending.findIndex((p) => p.id === h);
      if (i >= 0) pending.splice(i, 1);
    },
    fireNext() {
      const t = pending.shift();
      if (!t) throw new Error('no timer pending');
      t.fn();
      return t.ms;
    },
  };
}

beforeEach(() => FakeSocket.reset());

describe('backoffDelay', () => {
  it('doubles up to the cap, with jitter in the upper half', () => {
    expect(backoffDelay(0, 1000, 30000, () => 0)).toBe(500);
    expect(backoffDelay(0, 1000, 30000, () => 1)).toBe(1000);
    expect(backoffDelay(3, 1000, 30000, () => 1)).toBe(8000);
    expect(backoffDelay(10, 1000, 30000, () => 1)).toBe(30000);
    expect(backoffDelay(10, 1000, 30000, () => 0)).toBe(15000);
    expect(backoffDelay(1000, 1000, 30000, () => 0.5)).toBe(22500);
  });
});

describe('LiveSocket', () => {
  function setup() {
    const timers = manualTimers();
    const messages: string[] = [];
    const opens: boolean[] = [];
    const statuses: LiveStatus[] = [];
    const live = new LiveSocket({
      url: 'ws://t/api/notifications/stream',
      WebSocketImpl: FakeSocket,
      onMessage: (d) => messages.push(d),
      onOpen: ({ reconnected }) => opens.push(reconnected),
      onStatus: (s) => statuses.push(s),
      initialDelayMs: 1000,
      maxDelayMs: 8000,
      random: () => 1,
      setTimer: timers.setTimer,
      clearTimer: timers.clearTimer,
    });
    return { live, timers, messages, opens, statuses };
  }

  it('passes messages through and reports the first open as not a reconnect', () => {
    const { live, messages, opens, statuses } = setup();
    live.start();
    expect(FakeSocket.instances).toHaveLength(1);
    expect(FakeSocket.latest().url).toBe('ws://t/api/notifications/stream');
    FakeSocket.latest().open();
    FakeSocket.latest().receive({ id: 'n1' });
    expect(messages).toEqual(['{"id":"n1"}']);
    expect(opens).toEqual([false]);
    expect(statuses).toEqual(['connecting', 'open']);
  });

  it('reconnects after a drop with growing delays, and resets them once connected', () => {
    const { live, timers, opens } = setup();
    live.start();
    FakeSocket.latest().open();
    FakeSocket.latest().drop();
    expect(timers.pending).toHaveLength(1);
    expect(timers.fireNext()).toBe(1000);
    expect(FakeSocket.instances).toHaveLength(2);
    // the server is still down: each failed try waits longer, up to the cap
    FakeSocket.latest().drop();
    expect(timers.fireNext()).toBe(2000);
    FakeSocket.latest().drop();
    expect(timers.fireNext()).toBe(4000);
    FakeSocket.latest().drop();
    expect(timers.fireNext()).toBe(8000);
    FakeSocket.latest().drop();
    expect(timers.fireNext()).toBe(8000);
    FakeSocket.latest().open();
    expect(opens).toEqual([false, true]);
    // connected again: the next drop starts from the shortest delay
    FakeSocket.latest().drop();
    expect(timers.fireNext()).toBe(1000);
  });

  it('counts a late first open after failed tries as a reconnect (something may have been missed)', () => {
    const { live, timers, opens } = setup();
    live.start();
    FakeSocket.latest().drop();
    timers.fireNext();
    FakeSocket.latest().open();
    expect(opens).toEqual([true]);
  });

  it('stops for good: no retry, no messages from the old socket', () => {
    const { live, timers, messages, statuses } = setup();
    live.start();
    const s = FakeSocket.latest();
    s.open();
    live.stop();
    expect(s.closed).toBe(true);
    s.receive('late');
    s.drop();
    expect(messages).toEqual([]);
    expect(timers.pending).toHaveLength(0);
    expect(statuses[statuses.length - 1]).toBe('stopped');
  });

  it('stop during a wait cancels the pending retry', () => {
    const { live, timers } = setup();
    live.start();
    FakeSocket.latest().drop();
    expect(timers.pending).toHaveLength(1);
    live.stop();
    expect(timers.pending).toHaveLength(0);
    expect(FakeSocket.instances).toHaveLength(1);
  });

  it('retryNow skips the wait', () => {
    const { live, timers } = setup();
    live.start();
    FakeSocket.latest().drop();
    live.retryNow();
    expect(timers.pending).toHaveLength(0);
    expect(FakeSocket.instances).toHaveLength(2);
  });

  it('retries when the constructor throws', () => {
    const timers = manualTimers();
    let calls = 0;
    class Exploding extends FakeSocket {
      constructor(url: string) {
        calls++;
        if (calls === 1) throw new Error('SecurityError');
        super(url);
      }
    }
    const onOpen = vi.fn();
    const live = new LiveSocket({
      url: 'ws://x',
      WebSocketImpl: Exploding,
      onMessage: () => {},
      onOpen,
      random: () => 1,
      setTimer: timers.setTimer,
      clearTimer: timers.clearTimer,
    });
    live.start();
    expect(timers.pending).toHaveLength(1);
    timers.fireNext();
    FakeSocket.latest().open();
    expect(onOpen).toHaveBeenCalledWith({ reconnected: true });
  });
});

describe('streamUrl', () => {
  it('uses ws or wss to match the page', () => {
    expect(streamUrl({ protocol: 'http:', host: 'localhost:8080' })).toBe('ws://localhost:8080/api/notifications/stream');
    expect(streamUrl({ protocol: 'https:', host: 'tidings.dev' })).toBe('wss://tidings.dev/api/notifications/stream');
  });
});

describe('LiveSocket defaults', () => {
  it('uses the global WebSocket when none is given, even if the option is present but undefined', () => {
    const original = globalThis.WebSocket;
    globalThis.WebSocket = FakeSocket as unknown as typeof WebSocket;
    try {
      const live = new LiveSocket({ url: 'ws://x/s', onMessage: () => {}, WebSocketImpl: undefined, initialDelayMs: undefined });
      live.start();
      expect(FakeSocket.instances).toHaveLength(1);
      live.stop();
    } finally {
      globalThis.WebSocket = original;
    }
  });
});
