// The bell's unread count: asked on sign-in, every 30 s, and soon after each order event (an order's
// change usually brings a notification).
import { reactive } from "vue";
import { listNotifications } from "../api/notifications";
import { onOrderEvent } from "./orders";

export const bell = reactive({ unread: 0, known: false });

let timer: ReturnType<typeof setInterval> | null = null;
let stopWatching: (() => void) | null = null;
let soon: ReturnType<typeof setTimeout> | null = null;

/** Once for a burst of order events (a replay brings dozens at once). */
function refreshSoon(): void {
  if (soon) return;
  soon = setTimeout(() => {
    soon = null;
    void refreshUnread();
  }, 1500);
}

export async function refreshUnread(): Promise<void> {
  try {
    const page = await listNotifications(1);
    Object.assign(bell, { unread: page.unread, known: true });
  } catch {
    // the banner says when the API is down; the count stays as it was
  }
}

export function startBell(): void {
  if (timer) return;
  void refreshUnread();
  timer = setInterval(() => void refreshUnread(), 30_000);
  stopWatching = onOrderEvent(refreshSoon);
}

export function stopBell(): void {
  if (timer) clearInterval(timer);
  stopWatching?.();
  if (soon) clearTimeout(soon);
  soon = null;
  timer = null;
  stopWatching = null;
  Object.assign(bell, { unread: 0, known: false });
}
