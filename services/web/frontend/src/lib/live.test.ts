import { describe, expect, it } from "vitest";
import { Backoff } from "./backoff";
import { type Envelope, type FeedStatus, LiveFeed, type SocketLike } from "./live";

class FakeSocket implements SocketLike {
  readyState = 0;
  sent: Array<Record<string, unknown>> = [];
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  closedWith: number | null = null;
  open() {
    this.readyState = 1;
    this.onopen?.({});
  }
  frame(f: Record<string, unknown>) {
    this.onmessage?.({ data: JSON.stringify(f) });
  }
  drop(code = 1006) {
    this.readyState = 3;
    this.onclose?.({ code });
  }
  send(data: string) {
    this.sent.push(JSON.parse(data) as Record<string, unknown>);
  }
  close(code?: number) {
    this.closedWith = code ?? 1000;
    this.readyState = 3;
  }
}

function harness(refresh: () => Promise<boolean> = async () => true) {
  const sockets: FakeSocket[] = [];
  const timers: Array<{ fn: () => void; ms: number; cleared: boolean }> = [];
  const statuses: FeedStatus[] = [];
  const feed = new LiveFeed({
    url: "ws://test/api/live/ws",
    createSocket: () => {
      const s = new FakeSocket();
      sockets.push(s);
      return s;
    },
    refresh,
    backoff: new Backoff({ baseMs: 100, maxMs: 1000, random: () => 1 }),
    setTimer: (fn, ms) => {
      const t = { fn, ms, cleared: false };
      timers.push(t);
      return t;
    },
    clearTimer: (t) => ((t as { cleared: boolean }).cleared = true),
    onStatus: (s) => statuses.push(s),
  });
  const reconnectDelays = () => timers.filter((t) => t.ms !== 50_000).map((t) => t.ms);
  const fireReconnect = () => {
    const t = timers.filter((x) => x.ms !== 50_000 && !x.cleared).pop();
    if (!t) throw new Error("no reconnect scheduled");
    t.cleared = true;
    t.fn();
  };
  return { feed, sockets, timers, statuses, reconnectDelays, fireReconnect };
}

const env = (n: number): Envelope => ({ id: `e${n}`, type: "kitchen.pantry.moved.v1", occurred_at: "2026-12-01T11:00:00Z", data: { n } });
const last = <T>(xs: T[]): T => xs[xs.length - 1] as T;

describe("LiveFeed", () => {
  it("subscribes on open, applies events in order and drops ones already applied", () => {
    const h = harness();
    const got: number[] = [];
    h.feed.subscribe("pantry", { onEvent: (_e, seq) => got.push(seq) });
    h.feed.start();
    h.sockets[0]!.open();
    expect(h.sockets[0]!.sent).toEqual([{ type: "subscribe", channel: "pantry" }]);
    for (const seq of [5, 6, 6, 4, 7]) h.sockets[0]!.frame({ type: "event", channel: "pantry", seq, event: env(seq) });
    expect(got).toEqual([5, 6, 7]);
    expect(h.feed.lastSeq("pantry")).toBe(7);
  });

  it("resumes after the last applied seq when it reconnects, without doubling the replay's overlap", () => {
    const h = harness();
    const got: number[] = [];
    h.feed.subscribe("orders", { onEvent: (_e, seq) => got.push(seq) }, 0);
    h.feed.start();
    h.sockets[0]!.open();
    expect(h.sockets[0]!.sent[0]).toEqual({ type: "subscribe", channel: "orders", after: 0 });
    h.sockets[0]!.frame({ type: "event", channel: "orders", seq: 10, event: env(10) });
    h.sockets[0]!.frame({ type: "event", channel: "orders", seq: 11, event: env(11) });
    h.sockets[0]!.drop(1001);
    expect(last(h.statuses)).toBe("reconnecting");
    h.fireReconnect();
    h.sockets[1]!.open();
    expect(h.sockets[1]!.sent).toEqual([{ type: "subscribe", channel: "orders", after: 11 }]);
    for (const seq of [11, 12]) h.sockets[1]!.frame({ type: "event", channel: "orders", seq, event: env(seq) });
    expect(got).toEqual([10, 11, 12]);
  });

  it("resumes after the seq of the live frame when no event of its own came", () => {
    const h = harness();
    h.feed.subscribe("pantry", { onEvent: () => {} });
    h.feed.start();
    h.sockets[0]!.open();
    h.sockets[0]!.frame({ type: "live", channel: "pantry", seq: 42 });
    h.sockets[0]!.drop(1001);
    h.fireReconnect();
    h.sockets[1]!.open();
    expect(h.sockets[1]!.sent).toEqual([{ type: "subscribe", channel: "pantry", after: 42 }]);
  });

  it("backs off more each failed attempt and starts over once live", () => {
    const h = harness();
    h.feed.start();
    h.sockets[0]!.drop();
    h.fireReconnect();
    h.sockets[1]!.drop();
    h.fireReconnect();
    h.sockets[2]!.drop();
    expect(h.reconnectDelays()).toEqual([100, 200, 400]);
    h.fireReconnect();
    h.sockets[3]!.open();
    h.sockets[3]!.frame({ type: "ready", user: "u", roles: [], expires_at: null });
    expect(h.feed.status).toBe("live");
    h.sockets[3]!.drop(1013);
    expect(last(h.reconnectDelays())).toBe(100);
  });

  it("on 4401 refreshes the session, then reconnects; a refused refresh signs out", async () => {
    let refreshes = 0;
    const h = harness(async () => ++refreshes === 1);
    h.feed.start();
    h.sockets[0]!.drop(4401);
    await Promise.resolve();
    await Promise.resolve();
    expect(refreshes).toBe(1);
    h.fireReconnect();
    h.sockets[1]!.drop(4401);
    await Promise.resolve();
    await Promise.resolve();
    expect(refreshes).toBe(2);
    expect(h.feed.status).toBe("signed-out");
    expect(h.timers.filter((t) => t.ms !== 50_000 && !t.cleared)).toHaveLength(0);
  });

  it("hands a reset to the page and takes what follows as new", () => {
    const h = harness();
    const got: number[] = [];
    const resets: string[] = [];
    h.feed.subscribe("stock", { onEvent: (_e, seq) => got.push(seq), onReset: (r) => resets.push(r) }, 3);
    h.feed.start();
    h.sockets[0]!.open();
    h.sockets[0]!.frame({ type: "reset", channel: "stock", reason: "purged" });
    expect(resets).toEqual(["purged"]);
    expect(h.feed.lastSeq("stock")).toBeNull();
    expect(h.sockets[0]!.sent.at(-1)).toEqual({ type: "subscribe", channel: "stock" }); // from now on
    h.sockets[0]!.frame({ type: "event", channel: "stock", seq: 1, event: env(1) });
    expect(got).toEqual([1]);
  });

  it("treats a silent socket as dead and reconnects", () => {
    const h = harness();
    h.feed.start();
    h.sockets[0]!.open();
    const silence = h.timers.filter((t) => t.ms === 50_000 && !t.cleared).pop()!;
    silence.fn();
    expect(h.sockets[0]!.closedWith).toBe(4000);
    expect(last(h.statuses)).toBe("reconnecting");
    h.fireReconnect();
    expect(h.sockets).toHaveLength(2);
  });

  it("stops for good on stop(), and an unsubscribe tells the server", () => {
    const h = harness();
    const off = h.feed.subscribe("pantry", { onEvent: () => {} });
    h.feed.start();
    h.sockets[0]!.open();
    off();
    expect(last(h.sockets[0]!.sent)).toEqual({ type: "unsubscribe", channel: "pantry" });
    h.feed.stop();
    expect(h.sockets[0]!.closedWith).toBe(1000);
    expect(h.sockets).toHaveLength(1);
  });
});
