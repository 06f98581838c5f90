import { api, query } from "./client";
import type { Page, Purchase, StockItem, StockMovement } from "./types";

export const stock = () => api.get<StockItem[]>("/api/warehouse/stock").then((r) => r.data);

export const stockMovements = (limit = 50) =>
  api.get<Page<StockMovement>>(`/api/warehouse/stock/movements${query({ limit })}`).then((r) => r.data);

export const purchases = (limit = 50) =>
  api.get<Page<Purchase>>(`/api/warehouse/purchases${query({ limit })}`).then((r) => r.data);
