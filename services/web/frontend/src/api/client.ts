import { reactive } from "vue";
import { serverClock } from "../lib/clock";
import { ApiClient } from "../lib/http";

const sessionLostListeners = new Set<() => void>();

/** Called when a refresh fails: the user is signed out (elsewhere, or the session ran out). */
export function onSessionLost(fn: () => void): () => void {
  sessionLostListeners.add(fn);
  return () => sessionLostListeners.delete(fn);
}

/** Whether the last request reached a service (the banner that says the API is down reads it). */
export const reachability = reactive({ down: false, since: 0 });

function markDown(): void {
  if (!reachability.down) Object.assign(reachability, { down: true, since: Date.now() });
}

export const api = new ApiClient({
  onResponse: (res, receivedAt) => {
    serverClock.observe(res.headers.get("date"), receivedAt);
    if (res.status === 502 || res.status === 504) markDown();
    else reachability.down = false;
  },
  onUnreachable: markDown,
  onSessionLost: () => sessionLostListeners.forEach((fn) => fn()),
});

export function newIdempotencyKey(): string {
  if (typeof crypto !== "undefined" && "randomUUID" in crypto) return crypto.randomUUID();
  return `${Date.now().toString(16)}-${Math.random().toString(16).slice(2)}`;
}

export function query(params: Record<string, string | number | null | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== null && v !== undefined && v !== "") q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : "";
}
