// A ledger as the reports show it: balances per ingredient and the newest movements, from a REST
// snapshot and then from the feed's events. Each movement has an id that grows; an event at or
// below what the snapshot (or an earlier event) already holds changes nothing, so neither a replay
// nor the race between the snapshot and the first events doubles a row or rolls a balance back.
import type { Envelope } from "./live";

export interface Movement {
  id: number;
  ingredient: string;
  delta: number;
}

export class Ledger<B extends { ingredient: string }, M extends Movement> {
  balances: B[] = [];
  movements: M[] = [];
  /** Ids that came from the feed after the snapshot (the page highlights them). */
  readonly fresh = new Set<number>();
  private versions = new Map<string, number>();
  private floor = 0;

  constructor(private readonly cap = 200) {}

  /** Replace everything with a snapshot: the balances and the newest movements (newest first). */
  load(balances: B[], movements: M[]): void {
    this.floor = movements.reduce((max, m) => Math.max(max, m.id), 0);
    this.balances = [...balances].sort((a, b) => a.ingredient.localeCompare(b.ingredient));
    this.movements = [...movements].sort((a, b) => b.id - a.id).slice(0, this.cap);
    this.versions = new Map(this.balances.map((b) => [b.ingredient, this.floor]));
    this.fresh.clear();
  }

  /** Newer balances from REST (reservations change them without a ledger row); movements stay. */
  refreshBalances(balances: B[]): void {
    this.balances = [...balances].sort((a, b) => a.ingredient.localeCompare(b.ingredient));
  }

  /** One movement from the feed with the balance after it; false when it was already applied. */
  apply(movement: M, balance: B): boolean {
    if (movement.id <= this.floor || this.movements.some((m) => m.id === movement.id)) return false;
    this.movements = [movement, ...this.movements].sort((a, b) => b.id - a.id).slice(0, this.cap);
    this.fresh.add(movement.id);
    if (movement.id > (this.versions.get(balance.ingredient) ?? 0)) {
      this.versions.set(balance.ingredient, movement.id);
      const others = this.balances.filter((b) => b.ingredient !== balance.ingredient);
      this.balances = [...others, balance].sort((a, b) => a.ingredient.localeCompare(b.ingredient));
    }
    return true;
  }
}

const num = (v: unknown): number => (typeof v === "number" ? v : Number(v ?? 0));
const str = (v: unknown): string | null => (typeof v === "string" ? v : null);

export function pantryEvent(env: Envelope) {
  if (env.type !== "kitchen.pantry.moved.v1") return null;
  const d = env.data;
  const on_hand = num(d.on_hand);
  const reserved = num(d.reserved);
  return {
    movement: { id: num(d.movement_id), ingredient: String(d.ingredient), delta: num(d.delta), reason: String(d.reason), order_id: str(d.order_id), created_at: env.occurred_at },
    balance: { ingredient: String(d.ingredient), on_hand, reserved, available: on_hand - reserved },
  };
}

export function stockEvent(env: Envelope) {
  if (env.type !== "warehouse.stock.moved.v1") return null;
  const d = env.data;
  return {
    movement: { id: num(d.movement_id), ingredient: String(d.ingredient), delta: num(d.delta), reason: String(d.reason), request_id: str(d.request_id), created_at: env.occurred_at },
    balance: { ingredient: String(d.ingredient), on_hand: num(d.balance) },
  };
}

export function purchaseEvent(env: Envelope) {
  if (env.type !== "warehouse.purchase.made.v1") return null;
  const d = env.data;
  return {
    id: num(d.purchase_id), request_id: String(d.request_id), ingredient: String(d.ingredient), requested: num(d.requested),
    received: num(d.received), supplier: String(d.supplier), created_at: env.occurred_at,
  };
}
