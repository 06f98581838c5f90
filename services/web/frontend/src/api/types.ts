// The shapes the services answer (their OpenAPI documents, /api/<service>/openapi.json).

export type Role = "customer" | "staff" | "admin";

export interface User {
  id: string;
  email: string;
  display_name: string;
  roles: Role[];
  created_at: string;
}

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export interface Dish {
  id: string;
  name: string;
  description: string;
  image_url: string | null;
  price_cents: number;
  version: number;
  ingredients: Record<string, number>;
}

export type OrderStatus = "pending" | "reserved" | "served" | "cancelled" | "expired" | "failed";
export const TERMINAL: readonly OrderStatus[] = ["served", "cancelled", "expired", "failed"];

export interface Order {
  order_id: string;
  customer_id: string;
  dish_id: string;
  dish_name: string;
  quantity: number;
  total_cents: number;
  status: OrderStatus;
  version: number;
  expires_at: string | null;
  reason: string | null;
  /** When it was placed and last changed (absent in the live feed's snapshots only). */
  created_at?: string | null;
  updated_at?: string | null;
}

/** A step of an order's journey: a change of state (`key` v<version>, `kind` the state) or a step of its supply. */
export interface JourneyStep {
  key: string;
  kind: OrderStatus | "requested" | "purchased" | "delivered" | "supply_failed";
  at: string;
  ingredient: string | null;
  amount: number | null;
  detail: string | null;
}

export interface PantryItem {
  ingredient: string;
  on_hand: number;
  reserved: number;
  available: number;
  /** Grows with every change of the row; the pantry events carry it too. */
  version: number;
}

export interface PantryMovement {
  id: number;
  ingredient: string;
  delta: number;
  reason: string;
  order_id: string | null;
  created_at: string;
}

export interface StockItem {
  ingredient: string;
  on_hand: number;
  /** Grows with every movement of the row; the stock events carry it too. */
  version: number;
}

export interface StockMovement {
  id: number;
  ingredient: string;
  delta: number;
  reason: string;
  request_id: string | null;
  created_at: string;
}

export interface Purchase {
  id: number;
  request_id: string;
  ingredient: string;
  requested: number;
  received: number;
  supplier: string;
  created_at: string;
}

export interface Payment {
  payment_id: string;
  order_id: string;
  customer_id: string;
  amount_cents: number;
  status: "processing" | "succeeded" | "failed" | "refunded";
  created_at: string;
  failure_code: string | null;
  failure_message: string | null;
  refund_reason: string | null;
}

export interface Notification {
  id: string;
  kind: string;
  title: string;
  body: string;
  data: Record<string, string | number | null>;
  created_at: string;
  read_at: string | null;
}

export interface NotificationPage extends Page<Notification> {
  unread: number;
}
