// One order as a page shows it, with its journey: loaded from REST (which also sets the server clock),
// then kept up to date by the live feed (the orders store merges its events in by step key), reloaded
// when the feed was reset or reconnects.
import { computed, onBeforeUnmount, ref, watch, type Ref } from "vue";
import { getJourney, getOrder } from "../api/kitchen";
import type { Order } from "../api/types";
import { ApiError, toApiError } from "../lib/problem";
import { journeys, onOrdersReset, rememberJourney, rememberOrder } from "../stores/orders";
import { feedState } from "../stores/live";

export function useOrder(id: Ref<string>) {
  const loading = ref(true);
  const error = ref<ApiError | null>(null);
  let retry: ReturnType<typeof setTimeout> | null = null;

  async function load() {
    if (retry) clearTimeout(retry);
    loading.value = true;
    try {
      const orderId = id.value;
      const [res, steps] = await Promise.all([getOrder(orderId), getJourney(orderId)]);
      rememberOrder(res.data);
      rememberJourney(orderId, steps);
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
