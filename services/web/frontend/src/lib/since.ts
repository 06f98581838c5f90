// Today's orders: each order says when it was placed (`created_at`), and the list comes newest
// first, so pages are read until one reaches a row from before the start.

export interface TimePage<T> {
  items: T[];
  next_cursor: string | null;
}

export type FetchPage<T> = (cursor: string | null, limit: number) => Promise<TimePage<T>>;

/** Every row created at or after `startMs` (rows newest first, each with its `created_at`). */
export async function rowsSince<T extends { created_at?: string | null }>(
  fetchPage: FetchPage<T>,
  startMs: number,
  pageSize = 200,
  maxPages = 50,
): Promise<T[]> {
  const rows: T[] = [];
  let cursor: string | null = null;
  for (let i = 0; i < maxPages; i++) {
    const page: TimePage<T> = await fetchPage(cursor, pageSize);
    for (const row of page.items) {
      const at = row.created_at ? Date.parse(row.created_at) : NaN;
      if (!(at >= startMs)) return rows; // older (or undated): every row after it is older still
      rows.push(row);
    }
    if (page.next_cursor === null) return rows;
    cursor = page.next_cursor;
  }
  return rows;
}

/** Midnight UTC of the server's day (today's menu changes then too). */
export function startOfUtcDay(serverNow: number): number {
  const d = new Date(serverNow);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
}
