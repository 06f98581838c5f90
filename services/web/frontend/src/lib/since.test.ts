import { describe, expect, it } from "vitest";
import { rowsSince, startOfUtcDay, type TimePage } from "./since";

interface Row {
  n: number;
  created_at: string | null;
}

// Rows newest first, one per hour back from `now`, each with its creation time.
function list(times: number[]) {
  let calls = 0;
  const rows: Row[] = times.map((t, n) => ({ n, created_at: new Date(t).toISOString() }));
  const fetchPage = async (cursor: string | null, limit: number): Promise<TimePage<Row>> => {
    calls++;
    const start = cursor === null ? 0 : Number(cursor);
    const items = rows.slice(start, start + limit);
    return { items, next_cursor: start + limit < rows.length ? String(start + limit) : null };
  };
  return { fetchPage, calls: () => calls };
}

describe("rowsSince", () => {
  const hour = 3_600_000;
  const now = Date.UTC(2026, 11, 1, 12);
  const times = Array.from({ length: 40 }, (_, i) => now - i * hour); // 13 of them today (12:00 … 00:00)
  const midnight = startOfUtcDay(now);

  it("keeps exactly the rows created at or after the start, across pages, reading no page past it", async () => {
    for (const size of [5, 13, 200]) {
      const { fetchPage, calls } = list(times);
      const got = await rowsSince(fetchPage, midnight, size);
      expect(got.map((r) => Date.parse(r.created_at ?? ""))).toEqual(times.filter((t) => t >= midnight));
      expect(calls()).toBe(Math.floor(13 / size) + 1);
    }
  });

  it("returns a short list whole, and nothing when all is older", async () => {
    expect(await rowsSince(list(times.slice(0, 3)).fetchPage, midnight)).toHaveLength(3);
    expect(await rowsSince(list(times.slice(20)).fetchPage, midnight, 5)).toEqual([]);
  });

  it("starts the day at midnight UTC", () => {
    expect(startOfUtcDay(Date.UTC(2026, 11, 1, 23, 59))).toBe(Date.UTC(2026, 11, 1));
  });
});
