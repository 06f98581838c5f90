import { describe, expect, it } from "vitest";
import { Backoff } from "./backoff";

describe("Backoff", () => {
  it("doubles up to the cap, with jitter in the upper half, and starts over on reset", () => {
    const top = new Backoff({ baseMs: 100, maxMs: 1000, random: () => 1 });
    expect([top.next(), top.next(), top.next(), top.next(), top.next()]).toEqual([100, 200, 400, 800, 1000]);
    top.reset();
    expect(top.next()).toBe(100);
    const bottom = new Backoff({ baseMs: 100, maxMs: 1000, random: () => 0 });
    expect([bottom.next(), bottom.next()]).toEqual([50, 100]);
  });
});
