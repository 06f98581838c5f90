// The staff's dish form: its text fields as a dish, and the JSON Merge Patch (RFC 7396) of what changed.
import type { Dish } from "../api/types";
import type { DishInput } from "../api/kitchen";

export interface DishFormValues {
  name: string;
  description: string;
  price: string; // "8.50"
  ingredients: string; // one "ingredient: units" a line
}

export interface FormResult {
  input?: DishInput;
  errors: Record<string, string>;
}

const INGREDIENT = /^[a-z][a-z0-9_]{0,63}$/;

export function formOf(dish: Dish): DishFormValues {
  return {
    name: dish.name,
    description: dish.description,
    price: (dish.price_cents / 100).toFixed(2),
    ingredients: Object.entries(dish.ingredients)
      .map(([name, units]) => `${name}: ${units}`)
      .join("\n"),
  };
}

/** The form as the API's dish, or what is wrong with it, by field (the server checks again). */
export function readForm(values: DishFormValues): FormResult {
  const errors: Record<string, string> = {};
  const name = values.name.trim();
  if (!name) errors.name = "A dish needs a name.";
  const price = Number(values.price.replace(",", "."));
  const price_cents = Math.round(price * 100);
  if (!Number.isFinite(price) || price_cents <= 0 || Math.abs(price * 100 - price_cents) > 1e-6) {
    errors.price_cents = "A price above zero, in whole cents (8.50).";
  }
  const ingredients: Record<string, number> = {};
  for (const line of values.ingredients.split("\n").map((l) => l.trim()).filter(Boolean)) {
    const [rawName, rawUnits] = line.split(":").map((part) => part.trim());
    const units = Number(rawUnits);
    if (!rawName || !INGREDIENT.test(rawName) || !Number.isInteger(units) || units <= 0) {
      errors.ingredients = `"${line}": write "ingredient: units", the ingredient in lower snake case, whole units above zero.`;
      break;
    }
    ingredients[rawName] = units;
  }
  if (!errors.ingredients && Object.keys(ingredients).length === 0) errors.ingredients = "A recipe needs at least one ingredient.";
  if (Object.keys(errors).length) return { errors };
  return { input: { name, description: values.description.trim(), price_cents, ingredients }, errors };
}

/** What `after` changes of `before`, as a merge patch: untouched fields are left out, a dropped ingredient is null. */
export function mergePatch(before: Dish, after: DishInput): Record<string, unknown> {
  const patch: Record<string, unknown> = {};
  if (after.name !== before.name) patch.name = after.name;
  if (after.description !== before.description) patch.description = after.description;
  if (after.price_cents !== before.price_cents) patch.price_cents = after.price_cents;
  const recipe: Record<string, number | null> = {};
  for (const name of Object.keys(before.ingredients)) if (!(name in after.ingredients)) recipe[name] = null;
  for (const [name, units] of Object.entries(after.ingredients)) if (before.ingredients[name] !== units) recipe[name] = units;
  if (Object.keys(recipe).length) patch.ingredients = recipe;
  return patch;
}

/** Someone else saved the dish after this page read it (412 to our If-Match). */
export function isConflict(err: unknown): boolean {
  return typeof err === "object" && err !== null && (err as { status?: number }).status === 412;
}
