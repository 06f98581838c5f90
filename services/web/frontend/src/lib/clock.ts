// The server's clock as the browser sees it: deadlines (expires_at) are the server's, so countdowns
// run on the server's time (offset from the HTTP Date header), never on the browser's own clock.

const STALE_DATE_MS = 3000;

export class ServerClock {
  private offsetMs = 0;
  private known = false;

  constructor(private readonly localNow: () => number = Date.now) {}

  /** Learn the offset from a response's Date header, read when the response arrived. */
  observe(dateHeader: string | null | undefined, receivedAt: number = this.localNow()): void {
    if (!dateHeader) return;
    const server = Date.parse(dateHeader);
    if (Number.isNaN(server)) return;
    // Date has whole seconds (and a server may cache it for up to a second) and is stamped before the
    // response travels: the server's time on arrival is a little past it. Take the late end, so a
    // countdown to a deadline may show a second less than it has, never a second more.
    const observed = server + 1000 - receivedAt;
    // A server under load may stamp a stale Date (its cached header is refreshed by its event loop):
    // a reading a few seconds behind the one held is such a stamp, and would make a countdown run
    // long. Keep the later one; only a larger step back is the clocks really changing.
    if (!this.known || observed > this.offsetMs || this.offsetMs - observed > STALE_DATE_MS) {
      this.offsetMs = observed;
    }
    this.known = true;
  }

  get synced(): boolean {
    return this.known;
  }

  get offset(): number {
    return this.offsetMs;
  }

  /** The server's time now, in epoch milliseconds. */
  now(): number {
    return this.localNow() + this.offsetMs;
  }
}

/** Whole seconds left until `deadline` (ISO date-time) at server time `serverNow`; never negative. */
export function secondsLeft(deadline: string | null | undefined, serverNow: number): number | null {
  if (!deadline) return null;
  const at = Date.parse(deadline);
  if (Number.isNaN(at)) return null;
  return Math.max(0, Math.floor((at - serverNow) / 1000));
}

/** 754 → "12:34"; 3720 → "1:02:00". */
export function formatSeconds(total: number): string {
  const s = Math.max(0, Math.floor(total));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${sec}` : `${m}:${sec}`;
}

/** The one clock the app shares; every API response updates it. */
export const serverClock = new ServerClock();
