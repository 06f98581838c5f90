// An order's journey, from the order events of the live feed (kitchen.order.<step>.v1, each carrying
// the order's snapshot with a version that grows by one per change).
import type { Order, OrderStatus } from "../api/types";
import type { Envelope } from "./live";

export interface JourneyStep {
  status: OrderStatus;
  version: number;
  at: string;
  reason: string | null;
}

export interface Journey {
  order: Order;
  steps: JourneyStep[];
}

const STATUSES: readonly OrderStatus[] = ["pending", "reserved", "served", "cancelled", "expired", "failed"];

export function isOrderEvent(env: Envelope): boolean {
  return /^kitchen\.order\.[a-z_]+\.v1$/.test(env.type) && typeof env.data?.order_id === "string";
}

/** The snapshot an order event carries, or null when it is not one. */
export function orderOf(env: Envelope): Order | null {
  if (!isOrderEvent(env)) return null;
  const d = env.data;
  if (!STATUSES.includes(d.status as OrderStatus) || typeof d.version !== "number") return null;
  return {
    order_id: String(d.order_id),
    customer_id: String(d.customer_id ?? ""),
    dish_id: String(d.dish_id ?? ""),
    dish_name: String(d.dish_name ?? ""),
    quantity: Number(d.quantity ?? 1),
    total_cents: Number(d.total_cents ?? 0),
    status: d.status as OrderStatus,
    version: d.version,
    expires_at: typeof d.expires_at === "string" ? d.expires_at : null,
    reason: typeof d.reason === "string" ? d.reason : null,
  };
}

/** The journey with this event in it: each version once, in version order; the newest snapshot wins. */
export function applyEvent(journey: Journey | undefined, env: Envelope): Journey | undefined {
  const order = orderOf(env);
  if (!order) return journey;
  const step: JourneyStep = { status: order.status, version: order.version, at: env.occurred_at, reason: order.reason };
  const steps = (journey?.steps ?? []).filter((s) => s.version !== order.version);
  steps.push(step);
  steps.sort((a, b) => a.version - b.version);
  const newest = journey && journey.order.version > order.version ? journey.order : order;
  return { order: newest, steps };
}

/** A REST snapshot merged in: it replaces an older one, never a newer one from the feed. */
export function applySnapshot(journey: Journey | undefined, order: Order): Journey {
  if (journey && journey.order.version >= order.version) return journey;
  return { order, steps: journey?.steps ?? [] };
}
