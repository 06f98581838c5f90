// The live feed's client: one WebSocket for every channel, each resumed after the last seq it applied
// (so a reconnect neither loses nor doubles an event), reconnecting with back-off, re-signing in on 4401.
import { Backoff } from "./backoff";

export type FeedStatus = "connecting" | "live" | "reconnecting" | "signed-out";

export interface Envelope {
  id: string;
  type: string;
  occurred_at: string;
  correlation_id?: string | null;
  causation_id?: string | null;
  data: Record<string, unknown>;
}

export interface ChannelHandlers {
  onEvent(envelope: Envelope, seq: number): void;
  /** The stream no longer holds where we were: reload from REST (events then continue as new). */
  onReset?(reason: string): void;
  /** The replay is over: what follows is live. */
  onLive?(): void;
}

/** What the feed needs of a WebSocket (the browser's, or a fake in tests). */
export interface SocketLike {
  readonly readyState: number;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason?: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export interface FeedOptions {
  url: string;
  createSocket?: (url: string) => SocketLike;
  /** Renew the session (POST /api/auth/refresh); false when it is over. */
  refresh: () => Promise<boolean>;
  backoff?: Backoff;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
  /** No frame for this long (the server pings every 20 s): the connection is dead. */
  silenceMs?: number;
  onStatus?: (status: FeedStatus, detail: { retryInMs?: number; attempts: number }) => void;
}

export const CLOSE_UNAUTHENTICATED = 4401;
export const CLOSE_FORBIDDEN = 4403;
export const CLOSE_TOO_SLOW = 4008;
const OPEN = 1;

interface Subscription {
  handlers: ChannelHandlers;
  lastSeq: number | null;
}

export class LiveFeed {
  private socket: SocketLike | null = null;
  private readonly subs = new Map<string, Subscription>();
  private readonly backoff: Backoff;
  private readonly setTimer: (fn: () => void, ms: number) => unknown;
  private readonly clearTimer: (handle: unknown) => void;
  private reconnectTimer: unknown = null;
  private silenceTimer: unknown = null;
  private running = false;
  private statusValue: FeedStatus = "connecting";

  constructor(private readonly opts: FeedOptions) {
    this.backoff = opts.backoff ?? new Backoff();
    this.setTimer = opts.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
    this.clearTimer = opts.clearTimer ?? ((h) => clearTimeout(h as ReturnType<typeof setTimeout>));
  }

  get status(): FeedStatus {
    return this.statusValue;
  }

  /** The last seq applied on `channel` (null: none yet). */
  lastSeq(channel: string): number | null {
    return this.subs.get(channel)?.lastSeq ?? null;
  }

  /**
   * Follow `channel`. `after`: resume after this seq (0 replays the whole stream); omitted, only new
   * events. Returns the function that stops following it.
   */
  subscribe(channel: string, handlers: ChannelHandlers, after?: number): () => void {
    const sub: Subscription = { handlers, lastSeq: after ?? null };
    this.subs.set(channel, sub);
    this.sendSubscribe(channel, sub);
    return () => {
      if (this.subs.get(channel) !== sub) return;
      this.subs.delete(channel);
      this.sendFrame({ type: "unsubscribe", channel });
    };
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.connect();
  }

  stop(): void {
    this.running = false;
    this.clearTimers();
    const socket = this.socket;
    this.socket = null;
    if (socket) {
      socket.onclose = null;
      socket.close(1000, "bye");
    }
  }

  private connect(): void {
    if (!this.running) return;
    this.setStatus(this.backoff.attempts === 0 ? "connecting" : "reconnecting");
    const create = this.opts.createSocket ?? ((url: string) => new WebSocket(url) as unknown as SocketLike);
    let socket: SocketLike;
    try {
      socket = create(this.opts.url);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
      this.armSilence();
      for (const [channel, sub] of this.subs) this.sendSubscribe(channel, sub);
    };
    socket.onmessage = (ev) => this.onFrame(ev.data);
    socket.onerror = () => undefined; // a close always follows; it decides what to do
    socket.onclose = (ev) => void this.onClose(socket, ev.code);
  }

  private onFrame(raw: unknown): void {
    this.armSilence();
    if (typeof raw !== "string") return;
    let frame: Record<string, unknown>;
    try {
      frame = JSON.parse(raw) as Record<string, unknown>;
    } catch {
      return;
    }
    const channel = typeof frame.channel === "string" ? frame.channel : "";
    const sub = this.subs.get(channel);
    switch (frame.type) {
      case "ready":
        this.backoff.reset();
        this.setStatus("live");
        return;
      case "event": {
        const seq = frame.seq;
        if (!sub || typeof seq !== "number") return;
        if (sub.lastSeq !== null && seq <= sub.lastSeq) return; // a replayed event already applied
        sub.lastSeq = seq;
        sub.handlers.onEvent(frame.event as Envelope, seq);
        return;
      }
      case "live":
        // Everything up to `seq` has been sent (the channel's events among it): resume after it
        // next time even when none of them was ours.
        if (sub && typeof frame.seq === "number" && (sub.lastSeq === null || frame.seq > sub.lastSeq)) sub.lastSeq = frame.seq;
        this.backoff.reset();
        this.setStatus("live");
        sub?.handlers.onLive?.();
        return;
      case "reset":
        if (!sub) return;
        // The server dropped the subscription: take it up again from now (its `live` frame says when
        // it is in place, so the page reloads after that and misses nothing in between).
        sub.lastSeq = null;
        this.sendSubscribe(channel, sub);
        sub.handlers.onReset?.(typeof frame.reason === "string" ? frame.reason : "");
        return;
      default:
        return; // ping (it kept the silence timer at bay), pong, error: nothing to do
    }
  }

  private async onClose(socket: SocketLike, code: number): Promise<void> {
    if (socket !== this.socket) return;
    this.socket = null;
    this.clearTimers();
    if (!this.running) return;
    if (code === CLOSE_UNAUTHENTICATED) {
      this.setStatus("reconnecting");
      const renewed = await this.opts.refresh().catch(() => false);
      if (!renewed) {
        this.running = false;
        this.setStatus("signed-out");
        return;
      }
      if (!this.running) return;
    }
    if (code === CLOSE_FORBIDDEN) {
      this.running = false;
      this.setStatus("signed-out");
      return;
    }
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    const delay = this.backoff.next();
    this.setStatus("reconnecting", delay);
    this.reconnectTimer = this.setTimer(() => {
      this.reconnectTimer = null;
      this.connect();
    }, delay);
  }

  private armSilence(): void {
    if (this.silenceTimer !== null) this.clearTimer(this.silenceTimer);
    const socket = this.socket;
    this.silenceTimer = this.setTimer(() => {
      this.silenceTimer = null;
      if (socket && socket === this.socket) {
        // Treat the silent socket as closed now; the browser may take minutes to notice.
        socket.onclose = null;
        socket.close(4000, "silent");
        void this.onClose(socket, 1006);
      }
    }, this.opts.silenceMs ?? 50_000);
  }

  private clearTimers(): void {
    if (this.reconnectTimer !== null) this.clearTimer(this.reconnectTimer);
    if (this.silenceTimer !== null) this.clearTimer(this.silenceTimer);
    this.reconnectTimer = null;
    this.silenceTimer = null;
  }

  private sendSubscribe(channel: string, sub: Subscription): void {
    const frame: Record<string, unknown> = { type: "subscribe", channel };
    if (sub.lastSeq !== null) frame.after = sub.lastSeq;
    this.sendFrame(frame);
  }

  private sendFrame(frame: Record<string, unknown>): void {
    const socket = this.socket;
    if (socket && socket.readyState === OPEN) socket.send(JSON.stringify(frame));
  }

  private setStatus(status: FeedStatus, retryInMs?: number): void {
    this.statusValue = status;
    this.opts.onStatus?.(status, { retryInMs, attempts: this.backoff.attempts });
  }
}

/** ws://host/api/live/ws for http pages, wss:// for https. */
export function liveUrl(location: { protocol: string; host: string } = window.location): string {
  return `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/api/live/ws`;
}
