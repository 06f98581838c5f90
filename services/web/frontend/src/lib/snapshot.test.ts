import { describe, expect, it } from "vitest";
import type { Envelope } from "./live";
import { LiveSnapshot, RETRY_MS, SUBSCRIBE_WAIT_MS, type Timers } from "./snapshot";

function fakeTimers() {
  const pending: Array<{ fn: () => void; ms: number; cleared: boolean }> = [];
  const timers: Timers = {
    set: (fn, ms) => {
      const t = { fn, ms, cleared: false };
      pending.push(t);
      return t;
    },
    clear: (t) => ((t as { cleared: boolean }).cleared = true),
  };
  const fire = (ms: number) => {
    const t = pending.find((x) => x.ms === ms && !x.cleared);
    if (!t) throw new Error(`no ${ms} ms timer`);
    t.cleared = true;
    t.fn();
  };
  const armed = (ms: number) => pending.some((x) => x.ms === ms && !x.cleared);
  return { timers, fire, armed };
}

/** A load the test finishes by hand, so events can land while it runs. */
function loads() {
  const calls: Array<{ resolve: () => void; reject: (e: unknown) => void }> = [];
  const load = () => new Promise<void>((resolve, reject) => calls.push({ resolve, reject }));
  return { calls, load };
}

const env = (id: string): Envelope => ({ id, type: "kitchen.pantry.moved.v1", occurred_at: "t", data: {} });
const settle = () => new Promise((r) => setTimeout(r, 0));

describe("LiveSnapshot", () => {
  it("loads once the subscription is live, and applies what came meanwhile after the snapshot", async () => {
    const t = fakeTimers();
    const l = loads();
    const log: string[] = [];
    const s = new LiveSnapshot({ load: async () => { await l.load(); log.push("loaded"); }, apply: (e) => log.push(e.id), timers: t.timers });
    s.start();
    s.onEvent(env("before-live")); // not loaded yet: nothing to apply it to, but the ledger takes it
    expect(l.calls).toHaveLength(0);
    s.onLive();
    expect(l.calls).toHaveLength(1);
    expect(t.armed(SUBSCRIBE_WAIT_MS)).toBe(false);
    s.onEvent(env("during"));
    l.calls[0]!.resolve();
    await settle();
    s.onEvent(env("after"));
    expect(log).toEqual(["before-live", "loaded", "during", "after"]);
    s.onLive(); // a resume after a reconnect: gapless, no reload
    expect(l.calls).toHaveLength(1);
  });

  it("with the feed down loads anyway, then again once the subscription is in place", async () => {
    const t = fakeTimers();
    const l = loads();
    const s = new LiveSnapshot({ load: l.load, apply: () => undefined, timers: t.timers });
    s.start();
    t.fire(SUBSCRIBE_WAIT_MS);
    expect(l.calls).toHaveLength(1);
    l.calls[0]!.resolve();
    await settle();
    s.onLive();
    expect(l.calls).toHaveLength(2);
  });

  it("never runs two loads at once: one asked meanwhile runs after, once", async () => {
    const t = fakeTimers();
    const l = loads();
    const s = new LiveSnapshot({ load: l.load, apply: () => undefined, timers: t.timers });
    void s.reload();
    void s.reload();
    void s.reload();
    expect(l.calls).toHaveLength(1);
    l.calls[0]!.resolve();
    await settle();
    expect(l.calls).toHaveLength(2);
    l.calls[1]!.resolve();
    await settle();
    expect(l.calls).toHaveLength(2);
  });

  it("reloads after a reset once the new subscription is live", async () => {
    const t = fakeTimers();
    const l = loads();
    const s = new LiveSnapshot({ load: l.load, apply: () => undefined, timers: t.timers });
    s.start();
    s.onLive();
    l.calls[0]!.resolve();
    await settle();
    s.onReset();
    expect(l.calls).toHaveLength(1);
    s.onLive();
    expect(l.calls).toHaveLength(2);
  });

  it("reports a failed load and retries it", async () => {
    const t = fakeTimers();
    const l = loads();
    const ended: unknown[] = [];
    const s = new LiveSnapshot({ load: l.load, apply: () => undefined, timers: t.timers, onLoaded: (e) => ended.push(e) });
    s.start();
    s.onLive();
    l.calls[0]!.reject(new Error("503"));
    await settle();
    expect(ended).toEqual([new Error("503")]);
    t.fire(RETRY_MS);
    l.calls[1]!.resolve();
    await settle();
    expect(ended).toEqual([new Error("503"), null]);
    s.stop();
  });
});
