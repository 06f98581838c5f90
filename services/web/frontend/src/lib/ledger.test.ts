import { describe, expect, it } from "vitest";
import { Ledger, pantryEvent } from "./ledger";

type B = { ingredient: string; on_hand: number };
type M = { id: number; ingredient: string; delta: number };

describe("Ledger", () => {
  it("applies feed movements above the snapshot, once, and adds new ingredients", () => {
    const l = new Ledger<B, M>();
    l.load([{ ingredient: "pollo", on_hand: 2 }], [{ id: 7, ingredient: "pollo", delta: 2 }]);
    expect(l.apply({ id: 7, ingredient: "pollo", delta: 2 }, { ingredient: "pollo", on_hand: 2 })).toBe(false);
    expect(l.apply({ id: 8, ingredient: "lechuga", delta: 3 }, { ingredient: "lechuga", on_hand: 3 })).toBe(true);
    expect(l.apply({ id: 8, ingredient: "lechuga", delta: 3 }, { ingredient: "lechuga", on_hand: 3 })).toBe(false);
    expect(l.balances.map((b) => b.ingredient)).toEqual(["lechuga", "pollo"]);
    expect(l.movements.map((m) => m.id)).toEqual([8, 7]);
    expect([...l.fresh]).toEqual([8]);
  });

  it("never rolls a balance back to an older movement's", () => {
    const l = new Ledger<B, M>();
    l.load([], []);
    l.apply({ id: 10, ingredient: "queso", delta: -5 }, { ingredient: "queso", on_hand: 95 });
    l.apply({ id: 9, ingredient: "queso", delta: 100 }, { ingredient: "queso", on_hand: 100 });
    expect(l.balances).toEqual([{ ingredient: "queso", on_hand: 95 }]);
    expect(l.movements.map((m) => m.id)).toEqual([10, 9]);
  });

  it("keeps the newest movements up to its cap", () => {
    const l = new Ledger<B, M>(2);
    l.load([], []);
    for (const id of [1, 2, 3]) l.apply({ id, ingredient: "pan", delta: 1 }, { ingredient: "pan", on_hand: id });
    expect(l.movements.map((m) => m.id)).toEqual([3, 2]);
  });
});

describe("pantryEvent", () => {
  it("reads the balance after the movement (available = on hand − reserved)", () => {
    const got = pantryEvent({ id: "e", type: "kitchen.pantry.moved.v1", occurred_at: "t", data: { movement_id: 4, ingredient: "pollo", delta: -2, reason: "consume", on_hand: 3, reserved: 1 } });
    expect(got?.balance).toEqual({ ingredient: "pollo", on_hand: 3, reserved: 1, available: 2 });
    expect(got?.movement).toMatchObject({ id: 4, delta: -2, created_at: "t" });
  });
});
