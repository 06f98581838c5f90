import { describe, expect, it } from "vitest";
import type { Order } from "../api/types";
import { settle } from "./settle";

const order = (status: Order["status"]): Order => ({
  order_id: "o1", customer_id: "c", dish_id: "d", dish_name: "Dish", quantity: 1, total_cents: 850,
  status, version: 1, expires_at: null, reason: null,
});

describe("settle", () => {
  it("asks again until the order leaves pending", async () => {
    const answers = [order("pending"), order("reserved")];
    const got = await settle(order("pending"), { fetchOrder: async () => answers.shift()!, sleep: async () => {} });
    expect(got.status).toBe("reserved");
  });

  it("stops as soon as the feed says the order settled", async () => {
    let polls = 0;
    const got = await settle(order("pending"), {
      fetchOrder: async () => (polls++, order("pending")),
      settled: Promise.resolve(order("failed")),
      sleep: () => new Promise((r) => setTimeout(r, 5)),
    });
    expect(got.status).toBe("failed");
    expect(polls).toBeLessThanOrEqual(1);
  });

  it("returns at once when the order is already settled", async () => {
    const got = await settle(order("reserved"), { fetchOrder: async () => { throw new Error("no call"); } });
    expect(got.status).toBe("reserved");
  });
});
