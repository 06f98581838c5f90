import { api, query } from "./client";
import type { Page, User } from "./types";

export interface Session {
  access_token: string;
  expires_in: number;
  user: User;
}

export const signUp = (body: { email: string; password: string; display_name: string }) =>
  api.post<User>("/api/auth/signup", body, { noRefresh: true }).then((r) => r.data);

export const signIn = (body: { email: string; password: string }) =>
  api.post<Session>("/api/auth/signin", body, { noRefresh: true }).then((r) => r.data);

export const signOut = () => api.post<void>("/api/auth/signout", undefined, { noRefresh: true });

export const me = () => api.get<User>("/api/auth/me").then((r) => r.data);

export const customers = (cursor?: string | null, limit = 100) =>
  api.get<Page<User>>(`/api/auth/users${query({ role: "customer", cursor, limit })}`).then((r) => r.data);
