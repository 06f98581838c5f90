import { api, newIdempotencyKey, query } from "./client";
import type { Page, Payment } from "./types";

/** The sandbox provider's cards (Stripe's test tokens). */
export const TEST_CARDS = [
  { token: "tok_visa", label: "Visa that pays" },
  { token: "tok_chargeDeclined", label: "Card declined" },
  { token: "tok_chargeDeclinedInsufficientFunds", label: "Insufficient funds" },
  { token: "tok_chargeDeclinedExpiredCard", label: "Expired card" },
  { token: "tok_processingError", label: "Processing error (fails once)" },
] as const;

export const pay = (order_id: string, token: string, key: string = newIdempotencyKey()) =>
  api.post<Payment>("/api/payments", { order_id, token }, { headers: { "Idempotency-Key": key } }).then((r) => r.data);

export const paymentsOf = (order_id: string) =>
  api.get<Page<Payment>>(`/api/payments${query({ order_id })}`).then((r) => r.data);
