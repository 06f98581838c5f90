import { describe, expect, it } from "vitest";
import type { Order } from "../api/types";
import type { Envelope } from "./live";
import { applyEvent, applySnapshot } from "./timeline";

const order = (status: Order["status"], version: number): Order => ({
  order_id: "o1", customer_id: "c", dish_id: "d", dish_name: "Dish", quantity: 1, total_cents: 850,
  status, version, expires_at: null, reason: null,
});
const event = (status: Order["status"], version: number, at: string): Envelope => ({
  id: `e${version}`, type: `kitchen.order.${status === "pending" ? "placed" : status}.v1`, occurred_at: at, data: { ...order(status, version) },
});

describe("order journey", () => {
  it("keeps each step once, in version order, with the newest snapshot", () => {
    let j = applyEvent(undefined, event("reserved", 2, "t2"));
    j = applyEvent(j, event("pending", 1, "t1"));
    j = applyEvent(j, event("reserved", 2, "t2"));
    j = applyEvent(j, event("served", 3, "t3"));
    expect(j?.steps.map((s) => s.status)).toEqual(["pending", "reserved", "served"]);
    expect(j?.order.status).toBe("served");
  });

  it("a late REST snapshot never rolls back what the feed said", () => {
    const j = applyEvent(undefined, event("served", 3, "t3"));
    expect(applySnapshot(j, order("reserved", 2)).order.status).toBe("served");
    expect(applySnapshot(undefined, order("reserved", 2)).order.status).toBe("reserved");
  });

  it("ignores what is not an order event", () => {
    const j = applySnapshot(undefined, order("pending", 1));
    expect(applyEvent(j, { id: "x", type: "kitchen.pantry.moved.v1", occurred_at: "t", data: {} })).toBe(j);
  });
});
