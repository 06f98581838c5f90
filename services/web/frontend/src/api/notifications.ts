import { api, query } from "./client";
import type { NotificationPage } from "./types";

const BASE = "/api/notifications/notifications";

export const listNotifications = (limit = 20, cursor?: string | null) =>
  api.get<NotificationPage>(`${BASE}${query({ limit, cursor })}`).then((r) => r.data);

export const markRead = (id: string) => api.post<unknown>(`${BASE}/${encodeURIComponent(id)}/read`);

export const markAllRead = () => api.post<{ marked: number; unread: number }>(`${BASE}/read-all`).then((r) => r.data);
