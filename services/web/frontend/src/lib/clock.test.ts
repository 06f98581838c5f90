import { describe, expect, it } from "vitest";
import { formatSeconds, secondsLeft, ServerClock } from "./clock";

describe("ServerClock", () => {
  it("runs on the server's time from the Date header, whatever the browser's clock says", () => {
    let local = Date.parse("2026-12-01T10:00:00Z"); // the browser is 1 h behind
    const clock = new ServerClock(() => local);
    clock.observe("Tue, 01 Dec 2026 11:00:00 GMT", local);
    expect(clock.synced).toBe(true);
    expect(clock.now()).toBe(Date.parse("2026-12-01T11:00:01.000Z"));
    local += 10_000;
    expect(clock.now()).toBe(Date.parse("2026-12-01T11:00:11.000Z"));
  });

  it("keeps the later reading against a stale Date stamped by a busy server, not a real clock step", () => {
    const local = Date.parse("2026-12-01T10:00:00Z");
    const clock = new ServerClock(() => local);
    clock.observe("Tue, 01 Dec 2026 11:00:05 GMT", local);
    clock.observe("Tue, 01 Dec 2026 11:00:03 GMT", local); // two seconds stale: ignored
    expect(clock.now()).toBe(Date.parse("2026-12-01T11:00:06.000Z"));
    clock.observe("Tue, 01 Dec 2026 10:30:00 GMT", local); // the server's clock really went back
    expect(clock.now()).toBe(Date.parse("2026-12-01T10:30:01.000Z"));
  });

  it("ignores a missing or broken Date header", () => {
    const clock = new ServerClock(() => 1000);
    clock.observe(null);
    clock.observe("not a date");
    expect(clock.synced).toBe(false);
    expect(clock.now()).toBe(1000);
  });
});

describe("countdown", () => {
  const expires = "2026-12-01T11:15:00Z";

  it("counts the seconds left to the deadline on the server's clock", () => {
    const local = Date.parse("2026-12-01T09:00:00Z"); // browser clock far off
    const clock = new ServerClock(() => local);
    clock.observe("Tue, 01 Dec 2026 11:00:00 GMT", local);
    expect(secondsLeft(expires, clock.now())).toBe(899);
    expect(formatSeconds(secondsLeft(expires, clock.now()) ?? -1)).toBe("14:59");
  });

  it("stops at zero and says nothing without a deadline", () => {
    expect(secondsLeft(expires, Date.parse("2026-12-01T12:00:00Z"))).toBe(0);
    expect(secondsLeft(null, 0)).toBeNull();
    expect(secondsLeft("garbage", 0)).toBeNull();
  });

  it("formats minutes and hours", () => {
    expect(formatSeconds(0)).toBe("0:00");
    expect(formatSeconds(65)).toBe("1:05");
    expect(formatSeconds(3720)).toBe("1:02:00");
  });
});
