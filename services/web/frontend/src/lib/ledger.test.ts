import { describe, expect, it } from "vitest";
import type { Envelope } from "./live";
import { Ledger, pantryEvent, purchaseEvent, stockEvent } from "./ledger";

type B = { ingredient: string; on_hand: number; version: number };
type M = { id: number; ingredient: string; delta: number };

const moved = (id: number, ingredient: string, delta: number, on_hand: number, version: number) => ({
  movement: { id, ingredient, delta },
  balances: [{ ingredient, on_hand, version }],
});
const env = (type: string, data: Record<string, unknown>): Envelope => ({ id: "e", type, occurred_at: "2026-12-01T15:00:01Z", data });

describe("Ledger", () => {
  it("drops a movement it holds, applies a new one once, and adds a new ingredient", () => {
    const l = new Ledger<B, M>();
    l.load([{ ingredient: "pollo", on_hand: 2, version: 3 }], [{ id: 7, ingredient: "pollo", delta: 2 }]);
    expect(l.apply(moved(7, "pollo", 2, 2, 3))).toEqual([]);
    expect(l.apply(moved(8, "lechuga", 3, 3, 1))).toEqual(["lechuga"]);
    expect(l.apply(moved(8, "lechuga", 3, 3, 1))).toEqual([]);
    expect(l.balances.map((b) => b.ingredient)).toEqual(["lechuga", "pollo"]);
    expect(l.movements.map((m) => m.id)).toEqual([8, 7]);
    expect([...l.fresh]).toEqual([8]);
  });

  it("never lets an older event overwrite a newer row", () => {
    const l = new Ledger<B, M>();
    l.load([{ ingredient: "queso", on_hand: 95, version: 10 }], []);
    expect(l.balance({ ingredient: "queso", on_hand: 100, version: 9 })).toBe("stale");
    expect(l.balance({ ingredient: "queso", on_hand: 100, version: 10 })).toBe("stale"); // the same change
    l.apply(moved(9, "queso", 100, 100, 9)); // its movement is still news
    expect(l.balances).toEqual([{ ingredient: "queso", on_hand: 95, version: 10 }]);
    expect(l.movements.map((m) => m.id)).toEqual([9]);
    expect(l.balance({ ingredient: "queso", on_hand: 90, version: 11 })).toBe("updated");
    expect(l.balances).toEqual([{ ingredient: "queso", on_hand: 90, version: 11 }]);
  });

  it("takes a movement the snapshot missed though a newer one is loaded (commits land out of id order)", () => {
    const l = new Ledger<B, M>();
    l.load([{ ingredient: "pan", on_hand: 5, version: 2 }], [{ id: 11, ingredient: "pan", delta: 2 }]);
    expect(l.apply(moved(10, "pan", 3, 3, 1))).toEqual([]);
    expect(l.movements.map((m) => m.id)).toEqual([11, 10]);
    expect(l.balances).toEqual([{ ingredient: "pan", on_hand: 5, version: 2 }]);
  });

  it("ends at the same state whatever order the events come in, as a fresh load shows it", () => {
    const events = [moved(1, "pan", 4, 4, 1), moved(2, "pan", -1, 3, 2), { movement: null, balances: [{ ingredient: "pan", on_hand: 3, version: 3 }] }];
    const fresh = new Ledger<B, M>();
    fresh.load([{ ingredient: "pan", on_hand: 3, version: 3 }], [{ id: 2, ingredient: "pan", delta: -1 }, { id: 1, ingredient: "pan", delta: 4 }]);
    for (const order of [[0, 1, 2], [2, 1, 0], [1, 2, 0, 2, 1]]) {
      const l = new Ledger<B, M>();
      l.load([], []);
      for (const i of order) l.apply(events[i]!);
      expect({ balances: l.balances, movements: l.movements }).toEqual({ balances: fresh.balances, movements: fresh.movements });
    }
  });

  it("keeps the newest movements up to its cap", () => {
    const l = new Ledger<B, M>(2);
    l.load([], []);
    for (const id of [1, 2, 3]) l.apply(moved(id, "pan", 1, id, id));
    expect(l.movements.map((m) => m.id)).toEqual([3, 2]);
    expect(l.move({ id: 1, ingredient: "pan", delta: 1 })).toBe(false);
  });
});

describe("pantryEvent", () => {
  it("reads a movement with its row's time and the balances and version after it", () => {
    const got = pantryEvent(env("kitchen.pantry.moved.v1", { movement_id: 4, ingredient: "pollo", delta: -2, reason: "consume", on_hand: 3, reserved: 1, version: 8, created_at: "2026-12-01T15:00:00.250Z" }));
    expect(got?.balances).toEqual([{ ingredient: "pollo", on_hand: 3, reserved: 1, available: 2, version: 8 }]);
    expect(got?.movement).toMatchObject({ id: 4, delta: -2, created_at: "2026-12-01T15:00:00.250Z" });
  });

  it("reads an order's holds as balances without a movement", () => {
    const got = pantryEvent(env("kitchen.pantry.held.v1", {
      order_id: "o1",
      balances: [
        { ingredient: "lechuga", delta: 4, on_hand: 4, reserved: 4, version: 2 },
        { ingredient: "pollo", delta: -2, on_hand: 2, reserved: 0, version: 5 },
      ],
    }));
    expect(got).toEqual({
      movement: null,
      balances: [
        { ingredient: "lechuga", on_hand: 4, reserved: 4, available: 0, version: 2 },
        { ingredient: "pollo", on_hand: 2, reserved: 0, available: 2, version: 5 },
      ],
    });
    expect(pantryEvent(env("kitchen.order.placed.v1", {}))).toBeNull();
  });
});

describe("stock events", () => {
  it("read the stock row's version and the ledger's times", () => {
    const s = stockEvent(env("warehouse.stock.moved.v1", { movement_id: 3, ingredient: "pollo", delta: 4, reason: "purchase", balance: 6, version: 4, created_at: "2026-12-01T15:00:00.100Z" }));
    expect(s?.balances).toEqual([{ ingredient: "pollo", on_hand: 6, version: 4 }]);
    expect(s?.movement.created_at).toBe("2026-12-01T15:00:00.100Z");
    const p = purchaseEvent(env("warehouse.purchase.made.v1", { purchase_id: 2, request_id: "r", ingredient: "pollo", requested: 4, received: 4, supplier: "La Granja", created_at: "2026-12-01T15:00:00.050Z" }));
    expect(p?.created_at).toBe("2026-12-01T15:00:00.050Z");
  });
});
