import { describe, expect, it } from "vitest";
import type { Dish } from "../api/types";
import type { Envelope } from "./live";
import { dishChange, shows } from "./menuFeed";

const dish = (id: string, version: number): Dish => ({
  id,
  name: id,
  description: "",
  image_url: null,
  price_cents: 100,
  version,
  ingredients: { pan: 1 },
});

const env = (type: string, data: Record<string, unknown>): Envelope => ({
  id: "e1",
  type,
  occurred_at: "2026-12-01T12:00:00Z",
  data,
});

describe("dish changes from the menu channel", () => {
  it("reads the dish and its version from each kind of change", () => {
    expect(dishChange(env("kitchen.dish.updated.v1", { dish_id: "pan", version: 3 }))).toEqual({
      dishId: "pan",
      version: 3,
      retired: false,
    });
    expect(dishChange(env("kitchen.dish.retired.v1", { dish_id: "pan", version: 4 }))?.retired).toBe(true);
    expect(dishChange(env("kitchen.dish.created.v1", { dish_id: "sopa", version: 1 }))?.dishId).toBe("sopa");
  });

  it("ignores what is not a dish change", () => {
    expect(dishChange(env("kitchen.order.placed.v1", { dish_id: "pan", version: 1 }))).toBeNull();
    expect(dishChange(env("kitchen.dish.updated.v1", { dish_id: "pan" }))).toBeNull();
  });

  it("waits for a menu that still shows the dish as it was", () => {
    const change = { dishId: "pan", version: 3, retired: false };
    expect(shows([dish("pan", 2)], change)).toBe(false);
    expect(shows([dish("pan", 3)], change)).toBe(true);
    expect(shows([dish("sopa", 1)], change)).toBe(true); // not in today's pick
  });

  it("waits for a retired dish to leave the menu", () => {
    const change = { dishId: "pan", version: 4, retired: true };
    expect(shows([dish("pan", 3)], change)).toBe(false);
    expect(shows([dish("sopa", 1)], change)).toBe(true);
  });
});
