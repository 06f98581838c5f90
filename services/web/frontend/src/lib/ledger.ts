// A ledger as the reports show it: balances per ingredient and the newest movements, from a REST
// snapshot and then from the feed's events. Each balance row has a version that every change of it
// bumps (the REST read and the events both carry it): an event's balance replaces a row only when it
// is newer. Movements are told apart by their ids: one the ledger already holds is dropped. So
// neither a replay nor the race between the snapshot and the first events doubles a row or rolls a
// balance back, and events arriving in any order end at the newest state.
import type { Envelope } from "./live";

export interface Movement {
  id: number;
  ingredient: string;
  delta: number;
}

export interface Versioned {
  ingredient: string;
  version: number;
}

/** What one event changes: a ledger movement (if it is one) and the balances after it. */
export interface Change<B, M> {
  movement: M | null;
  balances: B[];
}

const byIngredient = (a: Versioned, b: Versioned) => a.ingredient.localeCompare(b.ingredient);

export class Ledger<B extends Versioned, M extends Movement> {
  balances: B[] = [];
  movements: M[] = [];
  /** Ids that came from the feed after the snapshot (the page highlights them). */
  readonly fresh = new Set<number>();

  constructor(private readonly cap = 200) {}

  /** Replace everything with a snapshot: the balances and the newest movements (newest first). */
  load(balances: B[], movements: M[]): void {
    this.balances = [...balances].sort(byIngredient);
    this.movements = [...movements].sort((a, b) => b.id - a.id).slice(0, this.cap);
    this.fresh.clear();
  }

  /** One event's change; the ingredients it added as new rows. */
  apply(change: Change<B, M>): string[] {
    if (change.movement) this.move(change.movement);
    return change.balances.filter((b) => this.balance(b) === "added").map((b) => b.ingredient);
  }

  /** A movement from the feed; false when the ledger holds it already (or it falls past the cap). */
  move(movement: M): boolean {
    if (this.movements.some((m) => m.id === movement.id)) return false;
    const next = [movement, ...this.movements].sort((a, b) => b.id - a.id).slice(0, this.cap);
    if (!next.some((m) => m.id === movement.id)) return false;
    this.movements = next;
    this.fresh.add(movement.id);
    return true;
  }

  /** A balance from the feed, kept only when its row is new or older. */
  balance(balance: B): "added" | "updated" | "stale" {
    const i = this.balances.findIndex((b) => b.ingredient === balance.ingredient);
    if (i < 0) {
      this.balances = [...this.balances, balance].sort(byIngredient);
      return "added";
    }
    if (this.balances[i]!.version >= balance.version) return "stale";
    this.balances = this.balances.map((b, j) => (j === i ? balance : b));
    return "updated";
  }
}

const num = (v: unknown): number => (typeof v === "number" ? v : Number(v ?? 0));
const str = (v: unknown): string | null => (typeof v === "string" ? v : null);
/** The ledger row's own time (what the REST rows show); the envelope's for an event without it. */
const when = (env: Envelope): string => str(env.data.created_at) ?? env.occurred_at;

function pantryBalance(d: Record<string, unknown>) {
  const on_hand = num(d.on_hand);
  const reserved = num(d.reserved);
  return { ingredient: String(d.ingredient), on_hand, reserved, available: Math.max(on_hand - reserved, 0), version: num(d.version) };
}

/** A pantry event: a ledger movement (`moved`) or an order's holds changing (`held`). */
export function pantryEvent(env: Envelope) {
  const d = env.data;
  if (env.type === "kitchen.pantry.held.v1") {
    const rows = Array.isArray(d.balances) ? (d.balances as Record<string, unknown>[]) : [];
    return { movement: null, balances: rows.map(pantryBalance) };
  }
  if (env.type !== "kitchen.pantry.moved.v1") return null;
  return {
    movement: { id: num(d.movement_id), ingredient: String(d.ingredient), delta: num(d.delta), reason: String(d.reason), order_id: str(d.order_id), created_at: when(env) },
    balances: [pantryBalance(d)],
  };
}

export function stockEvent(env: Envelope) {
  if (env.type !== "warehouse.stock.moved.v1") return null;
  const d = env.data;
  return {
    movement: { id: num(d.movement_id), ingredient: String(d.ingredient), delta: num(d.delta), reason: String(d.reason), request_id: str(d.request_id), created_at: when(env) },
    balances: [{ ingredient: String(d.ingredient), on_hand: num(d.balance), version: num(d.version) }],
  };
}

export function purchaseEvent(env: Envelope) {
  if (env.type !== "warehouse.purchase.made.v1") return null;
  const d = env.data;
  return {
    id: num(d.purchase_id), request_id: String(d.request_id), ingredient: String(d.ingredient), requested: num(d.requested),
    received: num(d.received), supplier: String(d.supplier), created_at: when(env),
  };
}
