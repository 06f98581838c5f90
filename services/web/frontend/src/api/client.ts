import { reactive } from "vue";
import { serverClock } from "../lib/clock";
import { ApiClient } from "../lib/http";

const sessionLostListeners = new Set<() => void>();

/** Called when a refresh fails: the user is signed out (elsewhere, or the session ran out). */
export function onSessionLost(fn: () => void): () => void {
  sessionLostListeners.add(fn);
  return () => sessionLostListeners.delete(fn);
}

/** The services whose last answer was "not reachable" (the banner names them and asks until they answer). */
export const reachability = reactive({ down: new Set<string>() });

/** "/api/kitchen/orders?x" → "kitchen". */
export function serviceOf(path: string): string {
  return /^\/api\/([a-z]+)/.exec(path)?.[1] ?? "web";
}

export const api = new ApiClient({
  onResponse: (res, receivedAt, path) => {
    serverClock.observe(res.headers.get("date"), receivedAt);
    if (res.status === 502 || res.status === 503 || res.status === 504) reachability.down.add(serviceOf(path));
    else reachability.down.delete(serviceOf(path));
  },
  onUnreachable: (_err, path) => reachability.down.add(serviceOf(path)),
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
