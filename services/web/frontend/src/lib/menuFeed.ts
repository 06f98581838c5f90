// The menu page and the dish changes of the live `menu` channel (kitchen.dish.<change>.v1, each with
// the dish's id and new version). The menu is read through the kitchen's cache, which hears of the
// change about when the page does: a menu read that still shows the dish as it was is read again.
import type { Dish } from "../api/types";
import type { Envelope } from "./live";

export interface DishChange {
  dishId: string;
  version: number;
  retired: boolean;
}

/** The change a menu event tells, or null when it is not one. */
export function dishChange(env: Envelope): DishChange | null {
  const m = /^kitchen\.dish\.(created|updated|retired)\.v1$/.exec(env.type);
  const { dish_id: dishId, version } = env.data ?? {};
  if (!m || typeof dishId !== "string" || typeof version !== "number") return null;
  return { dishId, version, retired: m[1] === "retired" };
}

/** Whether `menu` already shows `change`: a retired dish is off it, a changed one (when today's pick
 * has it) at that version or later. A dish not in today's pick shows nothing to wait for. */
export function shows(menu: readonly Dish[], change: DishChange): boolean {
  const dish = menu.find((d) => d.id === change.dishId);
  if (change.retired) return dish === undefined;
  return dish === undefined || dish.version >= change.version;
}
