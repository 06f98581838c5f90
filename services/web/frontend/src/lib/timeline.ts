// An order's journey: loaded from REST (GET /orders/{id}/journey), then kept up to date by the live
// feed's events — order events (kitchen.order.<state>.v1, a snapshot whose version grows by one per
// change: the state step keyed v<version>) and journey steps (kitchen.journey.step.v1, keyed by the
// kitchen). Steps are merged by key, the first of a key kept (as the kitchen keeps it), so a page
// that loads and then hears the feed ends identical to a fresh load, whatever the order of arrival.
import type { JourneyStep, Order, OrderStatus } from "../api/types";
import { ingredient } from "./format";
import type { Envelope } from "./live";

export type { JourneyStep };

export interface Journey {
  /** The newest snapshot of the order (null while only steps are known). */
  order: Order | null;
  /** In the order they happened. */
  steps: JourneyStep[];
}

export const JOURNEY_STEP = "kitchen.journey.step.v1";
const STATUSES: readonly OrderStatus[] = ["pending", "reserved", "served", "cancelled", "expired", "failed"];
const SUPPLY_KINDS = ["requested", "purchased", "delivered", "supply_failed"] as const;

export function isOrderEvent(env: Envelope): boolean {
  return /^kitchen\.order\.[a-z_]+\.v1$/.test(env.type) && typeof env.data?.order_id === "string";
}

const text = (v: unknown): string | null => (typeof v === "string" ? v : null);
const count = (v: unknown): number | null => (typeof v === "number" ? v : null);

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
    expires_at: text(d.expires_at),
    reason: text(d.reason),
  };
}

/** The journey step an event is (an order event's state step, or a journey step event), or null. */
export function stepOf(env: Envelope): JourneyStep | null {
  const order = orderOf(env);
  if (order) {
    return { key: `v${order.version}`, kind: order.status, at: env.occurred_at, ingredient: null, amount: null, detail: order.reason };
  }
  const d = env.data;
  if (env.type !== JOURNEY_STEP || typeof d?.key !== "string" || typeof d.at !== "string") return null;
  if (!(SUPPLY_KINDS as readonly unknown[]).includes(d.kind)) return null;
  return {
    key: d.key,
    kind: d.kind as JourneyStep["kind"],
    at: d.at,
    ingredient: text(d.ingredient),
    amount: count(d.amount),
    detail: text(d.detail),
  };
}

// Steps of one commit share their time: placed, then what it asked for, bought, received, then the
// state that followed (reserved, failed …).
function rank(step: JourneyStep): number {
  if (step.key === "v1") return 0;
  const i = (SUPPLY_KINDS as readonly string[]).indexOf(step.kind);
  return i >= 0 ? 1 + i : 5;
}

function version(step: JourneyStep): number {
  return /^v\d+$/.test(step.key) ? Number(step.key.slice(1)) : 0;
}

function compare(a: JourneyStep, b: JourneyStep): number {
  return Date.parse(a.at) - Date.parse(b.at) || rank(a) - rank(b) || version(a) - version(b) || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
}

/** `steps` with `more` merged in: each key once (the first kept), in the order they happened. */
export function mergeSteps(steps: readonly JourneyStep[], more: readonly JourneyStep[]): JourneyStep[] {
  const byKey = new Map<string, JourneyStep>();
  for (const s of [...steps, ...more]) if (!byKey.has(s.key)) byKey.set(s.key, s);
  return [...byKey.values()].sort(compare);
}

/** The journey with this event in it; unchanged (the same object) when it is not one of its steps. */
export function applyEvent(journey: Journey | undefined, env: Envelope): Journey | undefined {
  const step = stepOf(env);
  if (!step) return journey;
  const order = orderOf(env);
  const known = journey?.order ?? null;
  const newest = order && (!known || order.version > known.version) ? { ...known, ...order } : known;
  return { order: newest, steps: mergeSteps(journey?.steps ?? [], [step]) };
}

/** A REST snapshot merged in: it replaces an older one, never a newer one from the feed. */
export function applySnapshot(journey: Journey | undefined, order: Order): Journey {
  const known = journey?.order ?? null;
  if (known && known.version >= order.version) return { order: { ...order, ...known }, steps: journey?.steps ?? [] };
  return { order, steps: journey?.steps ?? [] };
}

/** The journey as REST tells it merged in (the feed may have brought some of it already). */
export function applySteps(journey: Journey | undefined, steps: readonly JourneyStep[]): Journey {
  return { order: journey?.order ?? null, steps: mergeSteps(journey?.steps ?? [], steps) };
}

const units = (step: JourneyStep): string => `${step.amount ?? "?"} ${ingredient(step.ingredient ?? "ingredient")}`;

/** What a step says happened, in words. */
export function describeStep(step: JourneyStep): string {
  switch (step.kind) {
    case "requested":
      return `Supply requested: ${units(step)} from the warehouse`;
    case "purchased":
      return step.amount
        ? `Bought ${units(step)} at the market${step.detail ? ` (${step.detail})` : ""}`
        : `The market had no ${ingredient(step.ingredient ?? "ingredient")}${step.detail ? ` (${step.detail})` : ""}`;
    case "delivered":
      return `Delivered: ${units(step)}`;
    case "supply_failed":
      return `Could not get ${units(step)}`;
    case "pending":
      return "Placed";
    case "reserved":
      return "Reserved: ingredients secured, awaiting payment";
    case "served":
      return "Paid and served";
    case "cancelled":
      return "Cancelled";
    case "expired":
      return "Expired (not paid in time)";
    case "failed":
      return "Failed";
  }
}

/** The step's detail worth showing beside it (a reason, a late delivery's note); the supplier is in its words. */
export function stepNote(step: JourneyStep): string | null {
  return step.kind === "purchased" ? null : step.detail;
}

/** What the order's supply is doing, from its latest supply step (null before any): the menu card's progress. */
export function supplyProgress(steps: readonly JourneyStep[]): string | null {
  const last = [...steps].reverse().find((s) => (SUPPLY_KINDS as readonly string[]).includes(s.kind));
  return last ? describeStep(last) : null;
}
