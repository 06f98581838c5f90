// Renew the access token a minute before it runs out, so requests do not meet a 401 first (the
// refresh-on-401 stays as the fallback). Its expiry is remembered across reloads, on the server's clock.
import { api } from "../api/client";
import { serverClock } from "../lib/clock";

const KEY = "brigade_access_expires_at";
const MARGIN_MS = 60_000;
let timer: ReturnType<typeof setTimeout> | null = null;

function store(): Storage | null {
  try {
    return typeof localStorage === "undefined" ? null : localStorage;
  } catch {
    return null;
  }
}

/** The session's access token lasts `expiresInS` seconds from now. */
export function noteExpiry(expiresInS: number): void {
  const at = serverClock.now() + expiresInS * 1000;
  store()?.setItem(KEY, String(at));
  schedule(at);
}

/** Whether the remembered token has run out (or is about to): refresh before asking anything. */
export function accessExpired(): boolean {
  const at = Number(store()?.getItem(KEY) ?? NaN);
  return !Number.isNaN(at) && at - MARGIN_MS <= serverClock.now();
}

export function resumeExpiry(): void {
  const at = Number(store()?.getItem(KEY) ?? NaN);
  if (!Number.isNaN(at)) schedule(at);
}

function schedule(at: number): void {
  if (timer) clearTimeout(timer);
  const wait = Math.max(5_000, at - MARGIN_MS - serverClock.now());
  timer = setTimeout(() => void api.refresh(), Math.min(wait, 2 ** 31 - 1));
}

export function forgetExpiry(): void {
  if (timer) clearTimeout(timer);
  timer = null;
  store()?.removeItem(KEY);
}
