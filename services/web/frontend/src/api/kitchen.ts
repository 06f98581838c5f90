import { api, newIdempotencyKey, query } from "./client";
import type { Dish, JourneyStep, Order, OrderStatus, Page, PantryItem, PantryMovement } from "./types";

export const todaysDishes = () => api.get<Dish[]>("/api/kitchen/dishes/today").then((r) => r.data);

/** 201: reserved or failed; 202: still pending (poll the order). The key makes a retry safe. */
export const placeOrder = (dish_id: string, quantity: number, key: string = newIdempotencyKey()) =>
  api.post<Order>("/api/kitchen/orders", { dish_id, quantity }, { headers: { "Idempotency-Key": key } });

export const getOrder = (id: string) => api.get<Order>(`/api/kitchen/orders/${encodeURIComponent(id)}`);

/** The order's journey so far, oldest step first (the owner's or staff's; 404 for anyone else). */
export const getJourney = (id: string) =>
  api.get<JourneyStep[]>(`/api/kitchen/orders/${encodeURIComponent(id)}/journey`).then((r) => r.data);

export const listOrders = (opts: { cursor?: string | null; limit?: number; status?: OrderStatus } = {}) =>
  api.get<Page<Order>>(`/api/kitchen/orders${query({ limit: opts.limit ?? 50, cursor: opts.cursor, status: opts.status })}`).then((r) => r.data);

export const cancelOrder = (id: string) =>
  api.post<Order>(`/api/kitchen/orders/${encodeURIComponent(id)}/cancel`).then((r) => r.data);

export const pantry = () => api.get<PantryItem[]>("/api/kitchen/pantry").then((r) => r.data);

export const pantryMovements = (limit = 50) =>
  api.get<Page<PantryMovement>>(`/api/kitchen/pantry/movements${query({ limit })}`).then((r) => r.data);
