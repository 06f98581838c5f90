// A table that is a REST snapshot kept current by a feed channel: listen first, then load, so no
// event falls between the two (the ledger drops what the snapshot already holds); reload on reset.
import { onBeforeUnmount, onMounted, ref } from "vue";
import type { Envelope } from "../lib/live";
import { ApiError, toApiError } from "../lib/problem";
import { listen } from "../stores/live";

export function useLiveSnapshot(channel: string, load: () => Promise<void>, apply: (env: Envelope) => void) {
  const loading = ref(true);
  const error = ref<ApiError | null>(null);
  let buffered: Envelope[] | null = null;
  let retry: ReturnType<typeof setTimeout> | null = null;
  let stop: (() => void) | null = null;

  async function reload() {
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

  onMounted(() => {
    stop = listen(channel, {
      onEvent: (env) => (buffered ? buffered.push(env) : apply(env)),
      onReset: () => void reload(),
    });
    void reload();
  });
  onBeforeUnmount(() => {
    stop?.();
    if (retry) clearTimeout(retry);
  });
  return { loading, error, reload };
}
