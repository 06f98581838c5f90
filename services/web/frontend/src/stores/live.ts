// The app's one live feed, shared by every page: a channel is subscribed while someone listens to it.
import { reactive } from "vue";
import { api } from "../api/client";
import { type ChannelHandlers, type FeedStatus, LiveFeed, liveUrl } from "../lib/live";

export const feedState = reactive<{ status: FeedStatus; retryInMs: number | null; running: boolean }>({
  status: "connecting",
  retryInMs: null,
  running: false,
});

let feed: LiveFeed | null = null;
const listeners = new Map<string, Set<ChannelHandlers>>();
const unsubscribers = new Map<string, () => void>();

function fanOut(channel: string): ChannelHandlers {
  const each = (fn: (h: ChannelHandlers) => void) => listeners.get(channel)?.forEach(fn);
  return {
    onEvent: (env, seq) => each((h) => h.onEvent(env, seq)),
    onReset: (reason) => each((h) => h.onReset?.(reason)),
    onLive: () => each((h) => h.onLive?.()),
  };
}

function ensureFeed(): LiveFeed {
  if (!feed) {
    feed = new LiveFeed({
      url: liveUrl(),
      // A refused refresh ends the session (and stops this feed); one that could not be made (auth
      // restarting) is no reason to stop: reconnect with back-off and try again then.
      refresh: async () => (await api.refresh()) || feedState.running,
      onStatus: (status, detail) => Object.assign(feedState, { status, retryInMs: detail.retryInMs ?? null }),
    });
  }
  return feed;
}

export function startFeed(): void {
  ensureFeed().start();
  feedState.running = true;
}

export function stopFeed(): void {
  feed?.stop();
  feed = null;
  listeners.clear();
  unsubscribers.clear();
  feedState.running = false;
}

/** Listen to `channel` until the returned function is called. `after` only counts for the first listener. */
export function listen(channel: string, handlers: ChannelHandlers, after?: number): () => void {
  const f = ensureFeed();
  let set = listeners.get(channel);
  if (!set) {
    set = new Set();
    listeners.set(channel, set);
    unsubscribers.set(channel, f.subscribe(channel, fanOut(channel), after));
  }
  set.add(handlers);
  return () => {
    const current = listeners.get(channel);
    if (!current) return;
    current.delete(handlers);
    if (current.size === 0) {
      listeners.delete(channel);
      unsubscribers.get(channel)?.();
      unsubscribers.delete(channel);
    }
  };
}
