// One order as a page shows it: loaded from REST (which also sets the server clock), then kept up to
// date by the live feed (the orders store), reloaded when the feed was reset or reconnects.
import { computed, onBeforeUnmount, ref, watch, type Ref } from "vue";
import { getOrder } from "../api/kitchen";
import type { Order } from "../api/types";
import { ApiError, toApiError } from "../lib/problem";
import { journeys, onOrdersReset, rememberOrder } from "../stores/orders";
import { feedState } from "../stores/live";

export function useOrder(id: Ref<string>) {
  const loading = ref(true);
  const error = ref<ApiError | null>(null);
  let retry: ReturnType<typeof setTimeout> | null = null;

  async function load() {
    if (retry) clearTimeout(retry);
    loading.value = true;
    try {
      const res = await getOrder(id.value);
      rememberOrder(res.data);
      error.value = null;
    } catch (err) {
      error.value = toApiError(err);
      if (error.value.unreachable) retry = setTimeout(() => void load(), 4000);
    } finally {
      loading.value = false;
    }
  }

  watch(id, load, { immediate: true });
  // Back from a reconnect: ask once, in case the feed's replay was cut short (it resumes otherwise).
  watch(() => feedState.status, (s, before) => {
    if (s === "live" && before === "reconnecting") void load();
  });
  const stopReset = onOrdersReset(() => void load());
  onBeforeUnmount(() => {
    stopReset();
    if (retry) clearTimeout(retry);
  });

  const journey = computed(() => journeys.get(id.value));
  const order = computed<Order | null>(() => journey.value?.order ?? null);
  return { order, journey, loading, error, reload: load };
}
