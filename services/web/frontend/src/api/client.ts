import { reactive } from "vue";
import { serverClock } from "../lib/clock";
import { ApiClient } from "../lib/http";

const sessionLostListeners = new Set<() => void>();
const refreshedListeners = new Set<(body: unknown) => void>();

/** Called after each successful refresh, with its body ({access_token, expires_in, user}). */
export function onRefreshed(fn: (body: unknown) => void): () => void {
  refreshedListeners.add(fn);
  return () => refreshedListeners.delete(fn);
}

/** Called when a refresh fails: the user is signed out (elsewhere, or the session ran out). */
export function onSessionLost(fn: () => void): () => void {
  sessionLostListeners.add(fn);
  return () => sessionLostListeners.delete(fn);
}

/** The services whose last answer was "not reachable" (the banner names them and asks until they answer). */
export const reachability = reactive({ down: new Set<string>() });

/** A service (or its database) out of reach, not an answer about the request (a card processor's 503 is one). */
export function isOutage(err: { status: number; type: string }): boolean {
  if (err.status === 502 || err.status === 504) return true;
  return err.status === 503 && !/payment-provider-unavailable$/.test(err.type);
}

/** "/api/kitchen/orders?x" → "kitchen". */
export function serviceOf(path: string): string {
  return /^\/api\/([a-z]+)/.exec(path)?.[1] ?? "web";
}

export const api = new ApiClient({
  onResponse: (res, receivedAt, path) => {
    serverClock.observe(res.headers.get("date"), receivedAt);
    if (res.status < 500) reachability.down.delete(serviceOf(path));
  },
  onProblem: (err, path) => {
    if (isOutage(err)) reachability.down.add(serviceOf(path));
    else reachability.down.delete(serviceOf(path));
  },
  onUnreachable: (_err, path) => reachability.down.add(serviceOf(path)),
  onRefreshed: (body) => refreshedListeners.forEach((fn) => fn(body)),
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
