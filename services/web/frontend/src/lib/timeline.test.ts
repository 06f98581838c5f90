import { describe, expect, it } from "vitest";
import type { JourneyStep, Order } from "../api/types";
import type { Envelope } from "./live";
import { applyEvent, applySnapshot, applySteps, describeStep, JOURNEY_STEP, mergeSteps, stepOf, supplyProgress } from "./timeline";

const order = (status: Order["status"], version: number, reason: string | null = null): Order => ({
  order_id: "o1", customer_id: "c", dish_id: "d", dish_name: "Dish", quantity: 1, total_cents: 850,
  status, version, expires_at: null, reason,
});
const event = (status: Order["status"], version: number, at: string, reason: string | null = null): Envelope => ({
  id: `e${version}`, type: `kitchen.order.${status === "pending" ? "placed" : status}.v1`, occurred_at: at,
  data: { ...order(status, version, reason) },
});
const T = (s: number) => new Date(Date.UTC(2026, 11, 1, 12, 0, s, 250)).toISOString();
const supply = (key: string, kind: JourneyStep["kind"], at: string, amount = 1, detail: string | null = null): JourneyStep => ({
  key, kind, at, ingredient: "lechuga", amount, detail,
});
const stepEvent = (s: JourneyStep): Envelope => ({
  id: `s-${s.key}`, type: JOURNEY_STEP, occurred_at: s.at, data: { order_id: "o1", customer_id: "c", ...s },
});
const state = (key: string, kind: JourneyStep["kind"], at: string, detail: string | null = null): JourneyStep => ({
  key, kind, at, ingredient: null, amount: null, detail,
});

// A short order's whole journey as GET /orders/{id}/journey answers it: placed and requested in one
// commit, two purchases, delivered and reserved in one commit, served.
const JOURNEY: JourneyStep[] = [
  state("v1", "pending", T(0)),
  supply("requested:r1", "requested", T(0)),
  supply("purchase:41", "purchased", T(1), 0, "La Granja"),
  supply("purchase:42", "purchased", T(2), 1, "La Granja"),
  supply("delivered:r1", "delivered", T(3)),
  state("v2", "reserved", T(3)),
  state("v3", "served", T(5)),
];
const EVENTS: Envelope[] = [
  event("pending", 1, T(0)),
  stepEvent(JOURNEY[1] as JourneyStep),
  stepEvent(JOURNEY[2] as JourneyStep),
  stepEvent(JOURNEY[3] as JourneyStep),
  stepEvent(JOURNEY[4] as JourneyStep),
  event("reserved", 2, T(3)),
  event("served", 3, T(5)),
];

describe("order journey", () => {
  it("keeps each state step once, in version order, with the newest snapshot", () => {
    let j = applyEvent(undefined, event("reserved", 2, T(2)));
    j = applyEvent(j, event("pending", 1, T(1)));
    j = applyEvent(j, event("reserved", 2, T(2)));
    j = applyEvent(j, event("served", 3, T(3)));
    expect(j?.steps.map((s) => s.kind)).toEqual(["pending", "reserved", "served"]);
    expect(j?.steps.map((s) => s.key)).toEqual(["v1", "v2", "v3"]);
    expect(j?.order?.status).toBe("served");
  });

  it("a late REST snapshot never rolls back what the feed said, and keeps the times only REST has", () => {
    const j = applyEvent(undefined, event("served", 3, T(3)));
    const merged = applySnapshot(j, { ...order("reserved", 2), created_at: T(0) });
    expect(merged.order?.status).toBe("served");
    expect(merged.order?.created_at).toBe(T(0));
    expect(applySnapshot(undefined, order("reserved", 2)).order?.status).toBe("reserved");
  });

  it("ignores what is not a step of an order's journey", () => {
    const j = applySnapshot(undefined, order("pending", 1));
    expect(applyEvent(j, { id: "x", type: "kitchen.pantry.moved.v1", occurred_at: T(0), data: {} })).toBe(j);
    expect(applyEvent(j, { id: "y", type: JOURNEY_STEP, occurred_at: T(0), data: { order_id: "o1", key: "k", kind: "nonsense", at: T(0) } })).toBe(j);
  });

  it("reads both kinds of event as steps keyed as the kitchen keys them", () => {
    expect(stepOf(event("failed", 2, T(4), "could not get 1 lechuga: market down"))).toEqual(
      state("v2", "failed", T(4), "could not get 1 lechuga: market down"),
    );
    expect(stepOf(stepEvent(JOURNEY[3] as JourneyStep))).toEqual(JOURNEY[3]);
  });

  it("orders the steps of one commit: placed, its supply, then the state it led to", () => {
    const shuffled = [JOURNEY[5], JOURNEY[1], JOURNEY[4], JOURNEY[0]] as JourneyStep[];
    expect(mergeSteps([], shuffled).map((s) => s.key)).toEqual(["v1", "requested:r1", "delivered:r1", "v2"]);
  });

  it("a page that loads the journey and then hears the feed ends identical to a fresh load", () => {
    const fresh = applySteps(applySnapshot(undefined, order("served", 3)), JOURNEY);
    expect(fresh.steps).toEqual(JOURNEY);
    // Loaded after k steps had happened; the feed then brings some of those again (a replay, a
    // reconnect) and the rest, possibly out of order (purchases and deliveries come by other paths).
    for (let k = 0; k <= JOURNEY.length; k++) {
      for (const overlap of [0, 1, 2]) {
        const feed = EVENTS.slice(Math.max(0, k - overlap));
        for (const arrival of [feed, [...feed].reverse()]) {
          const loaded = JOURNEY.slice(0, k);
          const version = Math.max(1, loaded.filter((s) => s.key.startsWith("v")).length);
          const status = (["pending", "reserved", "served"] as const)[version - 1] as Order["status"];
          let j: ReturnType<typeof applyEvent> = applySnapshot(undefined, order(status, version));
          j = applySteps(j, loaded);
          for (const env of arrival) j = applyEvent(j, env);
          expect(j?.steps).toEqual(fresh.steps);
          expect(j?.order?.status).toBe("served");
        }
      }
    }
  });

  it("the feed's steps heard before the REST journey loads merge with it, each once", () => {
    let j = applyEvent(undefined, stepEvent(JOURNEY[3] as JourneyStep)); // heard before anything else
    expect(j?.order).toBeNull();
    j = applySnapshot(j, order("pending", 1));
    j = applySteps(j, JOURNEY.slice(0, 4));
    expect(j.steps).toEqual(JOURNEY.slice(0, 4));
  });

  it("says what each step did", () => {
    expect(JOURNEY.map(describeStep)).toEqual([
      "Placed",
      "Supply requested: 1 Lechuga from the warehouse",
      "The market had no Lechuga (La Granja)",
      "Bought 1 Lechuga at the market (La Granja)",
      "Delivered: 1 Lechuga",
      "Reserved: ingredients secured, awaiting payment",
      "Paid and served",
    ]);
    expect(describeStep(supply("supply_failed:r1", "supply_failed", T(9), 2, "market down"))).toBe("Could not get 2 Lechuga");
  });

  it("tells the menu card what the supply is doing, from its latest step", () => {
    expect(supplyProgress(JOURNEY.slice(0, 1))).toBeNull();
    expect(supplyProgress(JOURNEY.slice(0, 2))).toBe("Supply requested: 1 Lechuga from the warehouse");
    expect(supplyProgress(JOURNEY.slice(0, 4))).toBe("Bought 1 Lechuga at the market (La Granja)");
    expect(supplyProgress(JOURNEY)).toBe("Delivered: 1 Lechuga");
  });
});
