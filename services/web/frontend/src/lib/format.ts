// How numbers, times and names read on the page.
import type { OrderStatus } from "../api/types";

const euros = new Intl.NumberFormat("en", { style: "currency", currency: "EUR" });

export const money = (cents: number): string => euros.format(cents / 100);

export const dateTime = (iso: string): string => {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString("en-GB", { dateStyle: "medium", timeStyle: "medium" });
};

export const time = (iso: string): string => {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleTimeString("en-GB");
};

/** "carne_molida" → "Carne molida". */
export const ingredient = (name: string): string => {
  const s = name.replace(/[_-]+/g, " ").trim();
  return s.charAt(0).toUpperCase() + s.slice(1);
};

/** +3 / −2 (a real minus sign): the sign says it without colour. */
export const signed = (n: number): string => (n > 0 ? `+${n}` : n < 0 ? `\u2212${Math.abs(n)}` : "0");

export const STATUS_LABEL: Record<OrderStatus, string> = {
  pending: "Securing ingredients",
  reserved: "Awaiting payment",
  served: "Paid and served",
  cancelled: "Cancelled",
  expired: "Expired (not paid in time)",
  failed: "Failed",
};

export const shortId = (id: string): string => id.slice(0, 8);
