import { describe, expect, it } from "vitest";
import { cursorTime, rowsSince, startOfUtcDay, type TimePage } from "./since";

// Rows newest first, one per hour back from `now`; the cursor after row k names row k's time.
function list(times: number[]) {
  let calls = 0;
  const fetchPage = async (cursor: string | null, limit: number): Promise<TimePage<number>> => {
    calls++;
    const start = cursor === null ? 0 : times.findIndex((t) => `${t * 1000}.x` === cursor) + 1;
    const items = times.slice(start, start + limit);
    const more = start + limit < times.length;
    return { items, next_cursor: more ? `${(items[items.length - 1] as number) * 1000}.x` : null };
  };
  return { fetchPage, calls: () => calls };
}

describe("rowsSince", () => {
  const hour = 3_600_000;
  const now = Date.UTC(2026, 11, 1, 12);
  const times = Array.from({ length: 40 }, (_, i) => now - i * hour); // 13 of them today (12:00 … 00:00)
  const midnight = startOfUtcDay(now);

  it("keeps exactly the rows at or after the start, across pages", async () => {
    for (const size of [5, 13, 200]) {
      const { fetchPage } = list(times);
      const got = await rowsSince(fetchPage, midnight, size);
      expect(got).toEqual(times.filter((t) => t >= midnight));
    }
  });

  it("returns a short list whole, and nothing when all is older", async () => {
    expect(await rowsSince(list(times.slice(0, 3)).fetchPage, midnight)).toHaveLength(3);
    expect(await rowsSince(list(times.slice(20)).fetchPage, midnight, 5)).toEqual([]);
  });

  it("reads the cursor's time", () => {
    expect(cursorTime("1764590400000000.3f0e8c2a-0000-4000-8000-000000000000")).toBe(1764590400000);
    expect(cursorTime(null)).toBeNull();
    expect(cursorTime("bad")).toBeNull();
  });
});
