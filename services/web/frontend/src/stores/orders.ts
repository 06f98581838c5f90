// Orders as the feed tells them: each order's newest snapshot and its journey, kept while signed in.
// A page adds what REST says (`rememberOrder`, `rememberJourney`); the feed's events merge in by key.
import { reactive } from "vue";
import type { JourneyStep, Order } from "../api/types";
import type { Envelope } from "../lib/live";
import { applyEvent, applySnapshot, applySteps, orderOf, stepOf, type Journey } from "../lib/timeline";
import { listen } from "./live";

export const journeys = reactive(new Map<string, Journey>());
const watchers = new Set<(order: Order, env: Envelope) => void>();
const stepWatchers = new Set<(orderId: string, step: JourneyStep) => void>();
const resetWatchers = new Set<() => void>();
let stop: (() => void) | null = null;

/** Follow the orders channel; `replay` from the stream's start (a customer's own orders: their journeys). */
export function followOrders(replay: boolean): void {
  if (stop) return;
  stop = listen(
    "orders",
    {
      onEvent: (env) => {
        const id = typeof env.data?.order_id === "string" ? env.data.order_id : null;
        if (!id) return;
        const before = journeys.get(id);
        const next = applyEvent(before, env);
        if (!next || next === before) return;
        journeys.set(id, next);
        const order = orderOf(env);
        if (order && next.order) watchers.forEach((fn) => fn(next.order as Order, env));
        const step = stepOf(env);
        if (step && !order) stepWatchers.forEach((fn) => fn(id, step));
      },
      // The stream no longer holds where we were: what a page shows must come from REST again.
      onReset: () => resetWatchers.forEach((fn) => fn()),
    },
    replay ? 0 : undefined,
  );
}

export function unfollowOrders(): void {
  stop?.();
  stop = null;
  journeys.clear();
}

export function rememberOrder(order: Order): void {
  journeys.set(order.order_id, applySnapshot(journeys.get(order.order_id), order));
}

/** The journey as REST told it, merged with what the feed brought meanwhile. */
export function rememberJourney(orderId: string, steps: readonly JourneyStep[]): void {
  journeys.set(orderId, applySteps(journeys.get(orderId), steps));
}

/** Every order event as it arrives (the dashboard's "(N new)", the bell). */
export function onOrderEvent(fn: (order: Order, env: Envelope) => void): () => void {
  watchers.add(fn);
  return () => watchers.delete(fn);
}

/** Every journey step besides the changes of state (supply requested, bought, delivered) as it arrives. */
export function onJourneyStep(fn: (orderId: string, step: JourneyStep) => void): () => void {
  stepWatchers.add(fn);
  return () => stepWatchers.delete(fn);
}

/** The orders channel was reset: reload from REST. */
export function onOrdersReset(fn: () => void): () => void {
  resetWatchers.add(fn);
  return () => resetWatchers.delete(fn);
}
