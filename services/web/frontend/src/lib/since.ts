// Today's orders, though an order in the list carries no time: the list's cursor does (it names the
// last row's creation time, in microseconds). Pages of orders come newest first; the page that
// crosses midnight is cut by a binary search on its length (the cursor after k rows is row k's time).

export interface TimePage<T> {
  items: T[];
  next_cursor: string | null;
}

export type FetchPage<T> = (cursor: string | null, limit: number) => Promise<TimePage<T>>;

/** The creation time (epoch ms) a time cursor names; null for none or a malformed one. */
export function cursorTime(cursor: string | null): number | null {
  if (!cursor) return null;
  const m = /^(\d{1,16})\./.exec(cursor);
  return m ? Math.floor(Number(m[1]) / 1000) : null;
}

/**
 * Every row created at or after `startMs`. The oldest row of all has no cursor after it: it counts
 * when the row before it does (the one case the list cannot tell).
 */
export async function rowsSince<T>(fetchPage: FetchPage<T>, startMs: number, pageSize = 200, maxPages = 50): Promise<T[]> {
  const rows: T[] = [];
  let cursor: string | null = null;
  for (let i = 0; i < maxPages; i++) {
    const page: TimePage<T> = await fetchPage(cursor, pageSize);
    const lastTime = cursorTime(page.next_cursor);
    if (page.next_cursor !== null && lastTime !== null && lastTime >= startMs) {
      rows.push(...page.items);
      cursor = page.next_cursor;
      continue;
    }
    // This page crosses the start, or is the last: the largest k whose k-th row is at or after it.
    let lo = 0;
    let hi = page.items.length - 1;
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      const probe = await fetchPage(cursor, mid);
      const t = cursorTime(probe.next_cursor);
      if (t !== null && t >= startMs) lo = mid;
      else hi = mid - 1;
    }
    const lastRowUnknown = page.next_cursor === null && lo === page.items.length - 1;
    rows.push(...page.items.slice(0, lastRowUnknown ? page.items.length : lo));
    return rows;
  }
  return rows;
}

/** Midnight UTC of the server's day (today's menu changes then too). */
export function startOfUtcDay(serverNow: number): number {
  const d = new Date(serverNow);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
}
