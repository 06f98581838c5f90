// A table that is a REST snapshot kept current by a feed channel. The snapshot is read once the
// server has the subscription in place (its `live` frame), so every change the snapshot misses
// comes as an event; events that arrive while it loads wait and are applied after it (the ledger
// drops what the snapshot already holds, by movement id and row version). With the feed slow or
// down the page loads anyway and loads again once the subscription is in place; on a reset too.
import { onBeforeUnmount, onMounted, ref } from "vue";
import type { Envelope } from "../lib/live";
import { ApiError, toApiError } from "../lib/problem";
import { listen } from "../stores/live";

/** How long a page waits for its subscription before it shows what REST has. */
export const SUBSCRIBE_WAIT_MS = 1500;

export function useLiveSnapshot(channel: string, load: () => Promise<void>, apply: (env: Envelope) => void) {
  const loading = ref(true);
  const error = ref<ApiError | null>(null);
  let buffered: Envelope[] | null = null;
  let retry: ReturnType<typeof setTimeout> | null = null;
  let waiting: ReturnType<typeof setTimeout> | null = null;
  let positioned = false;
  let stop: (() => void) | null = null;

  let running: Promise<void> | null = null;
  let again = false;

  async function loadOnce() {
    if (retry) clearTimeout(retry);
    loading.value = true;
    buffered = [];
    try {
      await load();
      error.value = null;
      const pending = buffered;
      buffered = null;
      pending.forEach(apply);
    } catch (err) {
      buffered = null;
      error.value = toApiError(err);
      retry = setTimeout(() => void reload(), 5000);
    } finally {
      loading.value = false;
    }
  }

  /** Load the snapshot; asked while a load runs, load once more after it (never two at once, so an
   * older answer cannot land over a newer one). */
  function reload(): Promise<void> {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        await loadOnce();
      } while (again);
      running = null;
    })();
    return running;
  }

  onMounted(() => {
    stop = listen(channel, {
      onEvent: (env) => (buffered ? buffered.push(env) : apply(env)),
      // The first `live` of a subscription taken from now (a page opening, a reset): load after it.
      onLive: () => {
        if (positioned) return;
        positioned = true;
        if (waiting) clearTimeout(waiting);
        void reload();
      },
      onReset: () => {
        positioned = false;
      },
    });
    waiting = setTimeout(() => {
      if (!positioned) void reload();
    }, SUBSCRIBE_WAIT_MS);
  });
  onBeforeUnmount(() => {
    stop?.();
    if (retry) clearTimeout(retry);
    if (waiting) clearTimeout(waiting);
  });
  return { loading, error, reload };
}
