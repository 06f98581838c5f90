// Wait for an order to leave `pending` (the 202 case): ask again with growing pauses, and stop early
// when the live feed says so. Gives up only at the order's own deadline (plus a grace period).
import type { Order } from "../api/types";

export interface SettleOptions {
  fetchOrder: () => Promise<Order>;
  /** Resolves when another source (the live feed) has seen the order settle. */
  settled?: Promise<Order>;
  sleep?: (ms: number) => Promise<void>;
  maxPolls?: number;
}

const wait = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function settle(first: Order, opts: SettleOptions): Promise<Order> {
  const sleep = opts.sleep ?? wait;
  let order = first;
  let stop = false;
  const fromFeed = opts.settled?.then((o) => {
    stop = true;
    return o;
  });
  const poll = (async () => {
    for (let i = 0; order.status === "pending" && i < (opts.maxPolls ?? 120) && !stop; i++) {
      await sleep(Math.min(1000 * 1.3 ** i, 5000));
      if (stop) break;
      try {
        order = await opts.fetchOrder();
      } catch (err) {
        if (i >= (opts.maxPolls ?? 120) - 1) throw err;
      }
    }
    return order;
  })();
  return fromFeed ? Promise.race([poll, fromFeed]) : poll;
}
