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

// ------------------------------------------------------------------------------ the menu, for staff

export const listDishes = () => api.get<Dish[]>("/api/kitchen/dishes").then((r) => r.data);

/** A dish with the ETag a write must name in If-Match. */
export interface VersionedDish {
  dish: Dish;
  etag: string;
}

const versioned = (r: { data: Dish; headers: Headers }): VersionedDish => ({
  dish: r.data,
  etag: r.headers.get("etag") ?? `"${r.data.version}"`,
});
const dishPath = (id: string) => `/api/kitchen/dishes/${encodeURIComponent(id)}`;

export interface DishInput {
  name: string;
  description: string;
  price_cents: number;
  ingredients: Record<string, number>;
}

export const getDish = (id: string) => api.get<Dish>(dishPath(id)).then(versioned);

export const createDish = (input: DishInput) => api.post<Dish>("/api/kitchen/dishes", input).then(versioned);

/** A JSON Merge Patch (RFC 7396): only what changed; 412 when someone saved the dish since `etag`. */
export const patchDish = (id: string, patch: Record<string, unknown>, etag: string) =>
  api
    .request<Dish>("PATCH", dishPath(id), { body: patch, contentType: "application/merge-patch+json", headers: { "If-Match": etag } })
    .then(versioned);

export const uploadDishImage = (id: string, picture: Blob, etag: string) =>
  api
    .request<Dish>("PUT", `${dishPath(id)}/image`, { raw: picture, contentType: picture.type, headers: { "If-Match": etag } })
    .then(versioned);

export const retireDish = (id: string, etag: string) =>
  api.request<void>("DELETE", dishPath(id), { headers: { "If-Match": etag } });
