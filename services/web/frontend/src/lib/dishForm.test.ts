import { describe, expect, it } from "vitest";
import type { Dish } from "../api/types";
import { ApiError } from "./problem";
import { formOf, isConflict, mergePatch, readForm } from "./dishForm";

const CESAR: Dish = {
  id: "ensalada-cesar",
  name: "Ensalada Cesar",
  description: "Lechuga romana con pollo.",
  image_url: null,
  price_cents: 850,
  version: 3,
  ingredients: { lechuga: 5, pollo: 2 },
};

describe("the dish form", () => {
  it("reads back what it shows", () => {
    expect(readForm(formOf(CESAR)).input).toEqual({
      name: "Ensalada Cesar",
      description: "Lechuga romana con pollo.",
      price_cents: 850,
      ingredients: { lechuga: 5, pollo: 2 },
    });
  });

  it("names each wrong field", () => {
    const { errors } = readForm({ name: " ", description: "", price: "0", ingredients: "Pollo: 1.5" });
    expect(Object.keys(errors).sort()).toEqual(["ingredients", "name", "price_cents"]);
    expect(readForm({ name: "x", description: "", price: "8.505", ingredients: "pollo: 1" }).errors.price_cents).toBeDefined();
    expect(readForm({ name: "x", description: "", price: "8,50", ingredients: "" }).errors.ingredients).toMatch(/at least one/);
  });
});

describe("the merge patch of an edit", () => {
  it("leaves out what did not change and drops a removed ingredient with null", () => {
    const edited = { ...readForm(formOf(CESAR)).input!, price_cents: 900, ingredients: { lechuga: 5, crutones: 1 } };
    expect(mergePatch(CESAR, edited)).toEqual({ price_cents: 900, ingredients: { pollo: null, crutones: 1 } });
  });

  it("is empty when nothing changed", () => {
    expect(mergePatch(CESAR, readForm(formOf(CESAR)).input!)).toEqual({});
  });
});

it("knows a 412 as someone else saving first", () => {
  expect(isConflict(new ApiError({ status: 412, type: "stale-version" }))).toBe(true);
  expect(isConflict(new ApiError({ status: 409 }))).toBe(false);
});
