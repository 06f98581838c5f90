// Who is signed in. The session itself lives in httpOnly cookies; this is what the page knows of it.
import { computed, reactive } from "vue";
import * as auth from "../api/auth";
import { api, onRefreshed, onSessionLost } from "../api/client";
import type { User } from "../api/types";
import { readCookie } from "../lib/cookies";
import { ApiError } from "../lib/problem";
import { accessExpired, forgetExpiry, noteExpiry, resumeExpiry } from "./expiry";
import { startFeed, stopFeed } from "./live";
import { startBell, stopBell } from "./notifications";
import { followOrders, unfollowOrders } from "./orders";

export const session = reactive<{ user: User | null; loaded: boolean; ended: "signed-out" | "lost" | null }>({
  user: null,
  loaded: false,
  ended: null,
});

export const isStaff = computed(() => !!session.user?.roles.some((r) => r === "staff" || r === "admin"));

function begin(user: User): void {
  session.user = user;
  session.ended = null;
  startFeed();
  followOrders(!user.roles.some((r) => r === "staff" || r === "admin"));
  startBell();
}

function end(reason: "signed-out" | "lost" = "lost"): void {
  session.ended = reason;
  session.user = null;
  forgetExpiry();
  stopBell();
  unfollowOrders();
  stopFeed();
}

onSessionLost(() => end("lost"));
onRefreshed((body) => {
  const s = body as Partial<auth.Session> | undefined;
  if (typeof s?.expires_in === "number") noteExpiry(s.expires_in);
});

let loading: Promise<void> | null = null;

/** Ask the server who we are (once at start; the cookies may hold a session from before). */
export function loadSession(): Promise<void> {
  // No CSRF cookie (it lives as long as the refresh token): nobody is signed in, no need to ask.
  if (!readCookie("brigade_csrf")) {
    session.loaded = true;
    return Promise.resolve();
  }
  loading ??= (accessExpired() ? api.refresh() : Promise.resolve(true))
    .then(() => auth.me())
    .then((user) => {
      resumeExpiry();
      begin(user);
    })
    .catch((err: unknown) => {
      if (err instanceof ApiError && (err.status === 401 || err.status === 404)) return;
      loading = null; // unreachable: the next call asks again
      throw err;
    })
    .finally(() => {
      session.loaded = true;
    });
  return loading;
}

export async function signIn(email: string, password: string): Promise<void> {
  const s = await auth.signIn({ email, password });
  noteExpiry(s.expires_in);
  begin(s.user);
}

export async function signOut(): Promise<void> {
  try {
    await auth.signOut();
  } finally {
    end("signed-out");
  }
}
