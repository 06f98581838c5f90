// A table that is a REST snapshot kept current by a feed channel (lib/snapshot.ts says how), bound
// to the component's life: subscribed while it is mounted.
import { onBeforeUnmount, onMounted, ref } from "vue";
import type { Envelope } from "../lib/live";
import { ApiError, toApiError } from "../lib/problem";
import { LiveSnapshot } from "../lib/snapshot";
import { listen } from "../stores/live";

export function useLiveSnapshot(channel: string, load: () => Promise<void>, apply: (env: Envelope) => void) {
  const loading = ref(true);
  const error = ref<ApiError | null>(null);
  const snapshot = new LiveSnapshot({
    load,
    apply,
    onLoading: () => (loading.value = true),
    onLoaded: (err) => {
      loading.value = false;
      error.value = err === null ? null : toApiError(err);
    },
  });
  let stop: (() => void) | null = null;

  onMounted(() => {
    stop = listen(channel, {
      onEvent: (env) => snapshot.onEvent(env),
      onLive: () => snapshot.onLive(),
      onReset: () => snapshot.onReset(),
    });
    snapshot.start();
  });
  onBeforeUnmount(() => {
    stop?.();
    snapshot.stop();
  });
  return { loading, error, reload: () => snapshot.reload() };
}
