// A WebSocket that comes back after a drop, waiting longer after each failed
// try (exponential backoff with jitter) and starting over once connected.

/** The part of the WebSocket API this module uses; tests pass a fake class. */
export interface SocketLike {
  onopen: ((ev: Event) => unknown) | null;
  onmessage: ((ev: MessageEvent) => unknown) | null;
  onclose: ((ev: CloseEvent) => unknown) | null;
  onerror: ((ev: Event) => unknown) | null;
  close(code?: number, reason?: string): void;
}

export type SocketConstructor = new (url: string) => SocketLike;

export type LiveStatus = 'connecting' | 'open' | 'reconnecting' | 'stopped';

export interface LiveSocketOptions {
  url: string;
  onMessage: (data: string) => void;
  /** Called on every open; `reconnected` is true after a drop. */
  onOpen?: (info: { reconnected: boolean }) => void;
  onStatus?: (status: LiveStatus) => void;
  WebSocketImpl?: SocketConstructor;
  initialDelayMs?: number;
  maxDelayMs?: number;
  random?: () => number;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
}

/**
 * Delay before try number `attempt` (0-based): doubles each time up to
 * `max`, then a random point in its upper half so many clients that lost the
 * same server do not all come back at once.
 */
export function backoffDelay(attempt: number, initial: number, max: number, random: () => number = Math.random): number {
  const ceiling = Math.min(max, initial * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

export class LiveSocket {
  private socket: SocketLike | null = null;
  private timer: unknown = null;
  private attempt = 0;
  private everOpened = false;
  private stopped = true;
  private readonly opts: Required<Omit<LiveSocketOptions, 'onOpen' | 'onStatus'>> &
    Pick<LiveSocketOptions, 'onOpen' | 'onStatus'>;

  constructor(opts: LiveSocketOptions) {
    // Options left undefined take the defaults (a spread would copy the undefined over them).
    this.opts = {
      ...opts,
      WebSocketImpl: opts.WebSocketImpl ?? (globalThis.WebSocket as unknown as SocketConstructor),
      initialDelayMs: opts.initialDelayMs ?? 1000,
      maxDelayMs: opts.maxDelayMs ?? 30000,
      random: opts.random ?? Math.random,
      setTimer: opts.setTimer ?? ((fn, ms) => setTimeout(fn, ms)),
      clearTimer: opts.clearTimer ?? ((h) => clearTimeout(h as ReturnType<typeof setTimeout>)),
    };
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) {
      this.opts.clearTimer(this.timer);
      this.timer = null;
    }
    const s = this.socket;
    this.socket = null;
    if (s) {
      s.onopen = s.onmessage = s.onclose = s.onerror = null;
      try {
        s.close(1000, 'bye');
      } catch {
        // already closed
      }
    }
    this.opts.onStatus?.('stopped');
  }

  /** Skips the wait and tries now (the browser came back online, say). */
  retryNow(): void {
    if (this.stopped || this.socket) return;
    if (this.timer !== null) this.opts.clearTimer(this.timer);
    this.timer = null;
    this.connect();
  }

  private connect(): void {
    this.opts.onStatus?.(this.everOpened || this.attempt > 0 ? 'reconnecting' : 'connecting');
    let socket: SocketLike;
    try {
      socket = new this.opts.WebSocketImpl(this.opts.url);
    } catch {
      this.scheduleRetry();
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
      if (this.socket !== socket) return;
      const reconnected = this.everOpened || this.attempt > 0;
      this.everOpened = true;
      this.attempt = 0;
      this.opts.onStatus?.('open');
      this.opts.onOpen?.({ reconnected });
    };
    socket.onmessage = (ev: MessageEvent) => {
      if (this.socket !== socket) return;
      if (typeof ev.data === 'string') this.opts.onMessage(ev.data);
    };
    socket.onclose = () => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.scheduleRetry();
    };
    // An error is always followed by close; close does the retry.
    socket.onerror = () => {};
  }

  private scheduleRetry(): void {
    if (this.stopped) return;
    const delay = backoffDelay(this.attempt, this.opts.initialDelayMs, this.opts.maxDelayMs, this.opts.random);
    this.attempt++;
    this.opts.onStatus?.('reconnecting');
    this.timer = this.opts.setTimer(() => {
      this.timer = null;
      if (!this.stopped) this.connect();
    }, delay);
  }
}

/** The stream's address on this page's own origin (ws: or wss:). */
export function streamUrl(loc: { protocol: string; host: string } = window.location): string {
  const scheme = loc.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${loc.host}/api/notifications/stream`;
}
