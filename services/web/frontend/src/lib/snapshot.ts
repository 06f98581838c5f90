// A table that is a REST snapshot kept current by a feed channel. The snapshot is read once the
// server has the subscription in place (its first `live` frame), so every change the snapshot
// misses comes as an event; events that arrive while it loads wait and are applied after it (the
// ledger drops what the snapshot already holds, by movement id and row version). With the feed slow
// or down the table loads anyway, and loads again once the subscription is in place; after a reset
// too (the feed takes the subscription up again from now). Loads never overlap, so an older answer
// cannot land over a newer one.
import type { Envelope } from "./live";

/** How long a table waits for its subscription before it shows what REST has. */
export const SUBSCRIBE_WAIT_MS = 1500;
export const RETRY_MS = 5000;

export interface Timers {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

const realTimers: Timers = {
  set: (fn, ms) => setTimeout(fn, ms),
  clear: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

export interface SnapshotOptions {
  load: () => Promise<void>;
  apply: (env: Envelope) => void;
  /** A load began. */
  onLoading?: () => void;
  /** A load ended: null when it worked, else its failure (it is retried). */
  onLoaded?: (error: unknown) => void;
  timers?: Timers;
  waitMs?: number;
}

export class LiveSnapshot {
  private buffered: Envelope[] | null = null;
  private positioned = false;
  private running: Promise<void> | null = null;
  private again = false;
  private waiting: unknown = null;
  private retry: unknown = null;
  private stopped = false;
  private readonly timers: Timers;

  constructor(private readonly opts: SnapshotOptions) {
    this.timers = opts.timers ?? realTimers;
  }

  /** Subscribed: wait for the subscription's `live`, or load anyway after a while. */
  start(): void {
    this.waiting = this.timers.set(() => {
      this.waiting = null;
      if (!this.positioned) void this.reload();
    }, this.opts.waitMs ?? SUBSCRIBE_WAIT_MS);
  }

  stop(): void {
    this.stopped = true;
    this.clear();
  }

  onEvent(env: Envelope): void {
    if (this.buffered) this.buffered.push(env);
    else this.opts.apply(env);
  }

  /** The first `live` of a subscription taken from now (a page opening, a reset): load after it. */
  onLive(): void {
    if (this.positioned) return;
    this.positioned = true;
    if (this.waiting !== null) this.timers.clear(this.waiting);
    this.waiting = null;
    void this.reload();
  }

  onReset(): void {
    this.positioned = false;
  }

  /** Load the snapshot; asked while a load runs, load once more after it. */
  reload(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        await this.loadOnce();
      } while (this.again && !this.stopped);
      this.running = null;
    })();
    return this.running;
  }

  private async loadOnce(): Promise<void> {
    if (this.retry !== null) this.timers.clear(this.retry);
    this.retry = null;
    this.opts.onLoading?.();
    this.buffered = [];
    let error: unknown = null;
    try {
      await this.opts.load();
      const pending = this.buffered;
      this.buffered = null;
      pending.forEach((env) => this.opts.apply(env));
    } catch (err) {
      this.buffered = null;
      error = err;
      if (!this.stopped) this.retry = this.timers.set(() => void this.reload(), RETRY_MS);
    }
    this.opts.onLoaded?.(error);
  }

  private clear(): void {
    if (this.waiting !== null) this.timers.clear(this.waiting);
    if (this.retry !== null) this.timers.clear(this.retry);
    this.waiting = this.retry = null;
  }
}
